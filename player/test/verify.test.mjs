import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { test } from 'node:test';
import { isSHA256, sha256Hex, verifySegment } from '../src/p2p/verify.js';

const subtle = webcrypto.subtle;

function bytes(n, seed) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

test('sha256Hex matches node:crypto', async () => {
  for (const n of [0, 1, 55, 64, 16384, 700001]) {
    const b = bytes(n, n);
    assert.equal(await sha256Hex(b.buffer, subtle), createHash('sha256').update(b).digest('hex'), `n=${n}`);
  }
  assert.equal(await sha256Hex(new Uint8Array(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('verifySegment accepts only the edge hash and size', async () => {
  const good = bytes(1000, 7);
  const sha256 = createHash('sha256').update(good).digest('hex');
  const bad = good.slice();
  bad[500] ^= 1;
  const cases = [
    { name: 'good', data: good, exp: { sha256, size: 1000 }, want: { ok: true } },
    { name: 'good, size unknown', data: good, exp: { sha256, size: 0 }, want: { ok: true } },
    { name: 'flipped bit', data: bad, exp: { sha256, size: 1000 }, want: { ok: false, reason: 'hash' } },
    { name: 'short', data: good.slice(0, 999), exp: { sha256, size: 1000 }, want: { ok: false, reason: 'size' } },
    { name: 'no hash known', data: good, exp: null, want: { ok: false, reason: 'hash' } },
    { name: 'malformed hash', data: good, exp: { sha256: sha256.toUpperCase(), size: 1000 }, want: { ok: false, reason: 'hash' } },
  ];
  for (const c of cases) assert.deepEqual(await verifySegment(c.data.buffer, c.exp, subtle), c.want, c.name);
});

test('isSHA256', () => {
  assert.ok(isSHA256('a'.repeat(64)));
  assert.ok(!isSHA256('A'.repeat(64)) && !isSHA256('a'.repeat(63)) && !isSHA256(null));
});
