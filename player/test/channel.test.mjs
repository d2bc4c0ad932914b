import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHUNK, MAX_CONTROL, Receiver, chunks, parseControl } from '../src/p2p/channel.js';

function segment(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b.buffer;
}

function receive(maxSize = 1 << 20) {
  const r = new Receiver(maxSize);
  const out = { results: [], progress: [] };
  r.start = (id, seq, expected) => r.begin(id, seq, expected, (res) => out.results.push(res), (got, size) => out.progress.push([got, size]));
  return { r, out };
}

test('parseControl accepts the peer messages', () => {
  const cases = [
    ['{"t":"have","ranges":[[0,5],[8,8]]}', { t: 'have', ranges: [[0, 5], [8, 8]] }],
    ['{"t":"get","id":7,"seq":12}', { t: 'get', id: 7, seq: 12 }],
    ['{"t":"data","id":7,"seq":12,"size":100}', { t: 'data', id: 7, seq: 12, size: 100 }],
    ['{"t":"none","id":7}', { t: 'none', id: 7 }],
    ['{"t":"cancel","id":7,"extra":1}', { t: 'cancel', id: 7 }],
    ['{"t":"future"}', { t: 'future' }],
    ['{"t":"get","id":-1,"seq":1}', null],
    ['{"t":"get","id":1}', null],
    ['{"t":"data","id":1,"seq":1,"size":1.5}', null],
    ['{"t":"have","ranges":[[2,1]]}', null],
    ['[1,2]', null],
    ['null', null],
    ['not json', null],
    [`{"t":"have","ranges":[],"pad":"${'x'.repeat(MAX_CONTROL)}"}`, null],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseControl(text), want, text.slice(0, 60));
  assert.equal(parseControl(new ArrayBuffer(4)), null);
});

test('Receiver assembles a segment from frames', () => {
  const data = segment(3 * CHUNK + 100);
  const { r, out } = receive();
  r.start(1, 12, data.byteLength);
  assert.ok(r.control({ t: 'data', id: 1, seq: 12, size: data.byteLength }));
  for (const c of chunks(data)) assert.ok(r.binary(c));
  assert.equal(out.results.length, 1);
  assert.equal(out.results[0].ok, true);
  assert.deepEqual(new Uint8Array(out.results[0].data), new Uint8Array(data));
  assert.deepEqual(out.progress.at(-1), [data.byteLength, data.byteLength]);
  assert.equal(r.busy(), false);
});

test('Receiver rejects wrong sizes and too many bytes', () => {
  const cases = [
    { name: 'announced size differs from the edge size', expected: 100, header: { size: 101 }, frames: [], reason: 'size', ok: false },
    { name: 'announced size above the limit', expected: 0, header: { size: 2 << 20 }, frames: [], reason: 'size', ok: false },
    { name: 'zero size', expected: 0, header: { size: 0 }, frames: [], reason: 'size', ok: false },
    { name: 'wrong seq', expected: 100, header: { size: 100, seq: 13 }, frames: [], reason: 'size', ok: false },
    { name: 'more bytes than announced', expected: 100, header: { size: 100 }, frames: [60, 60], reason: 'size', ok: false },
    { name: 'frame above 16 KiB', expected: 0, header: { size: CHUNK + 1 }, frames: [CHUNK + 1], reason: 'size', ok: false },
  ];
  for (const c of cases) {
    const { r, out } = receive();
    r.start(1, 12, c.expected);
    let alive = r.control({ t: 'data', id: 1, seq: 12, ...c.header });
    for (const n of c.frames) if (alive) alive = r.binary(new Uint8Array(n));
    assert.equal(alive, c.ok, c.name);
    assert.deepEqual(out.results, [{ ok: false, reason: c.reason }], c.name);
  }
});

test('Receiver: none, and stale frames after a cancel are discarded', () => {
  const { r, out } = receive();
  r.start(1, 5, 0);
  assert.ok(r.control({ t: 'none', id: 1 }));
  assert.deepEqual(out.results, [{ ok: false, reason: 'none' }]);

  // Request 2 is cancelled after its header and one frame; the sender goes
  // on for a frame; request 3 must get exactly its own bytes.
  r.start(2, 6, 0);
  assert.ok(r.control({ t: 'data', id: 2, seq: 6, size: 3 * CHUNK }));
  assert.ok(r.binary(new Uint8Array(CHUNK).fill(4)));
  r.cancel();
  // The bytes that came are kept (a late transfer is finished over HTTP).
  const { partial, ...rest } = out.results[1];
  assert.deepEqual(rest, { ok: false, reason: 'cancel' });
  assert.equal(partial.got, CHUNK);
  assert.equal(partial.buf.byteLength, 3 * CHUNK);
  assert.deepEqual(new Uint8Array(partial.buf, 0, CHUNK), new Uint8Array(CHUNK).fill(4));
  r.start(3, 7, 0);
  assert.ok(r.binary(new Uint8Array(CHUNK).fill(9))); // stale frame of request 2
  assert.ok(r.control({ t: 'none', id: 2 })); // stale
  const data = segment(1000);
  assert.ok(r.control({ t: 'data', id: 3, seq: 7, size: 1000 }));
  assert.ok(r.binary(data));
  assert.equal(out.results[2].ok, true);
  assert.deepEqual(new Uint8Array(out.results[2].data), new Uint8Array(data));
});

test('Receiver: a cancel before any byte, or a closed link, keeps nothing', () => {
  const { r, out } = receive();
  r.start(1, 5, 0);
  assert.ok(r.control({ t: 'data', id: 1, seq: 5, size: 2 * CHUNK }));
  r.cancel();
  r.start(2, 6, 0);
  assert.ok(r.control({ t: 'data', id: 2, seq: 6, size: 2 * CHUNK }));
  assert.ok(r.binary(new Uint8Array(CHUNK)));
  r.cancel('closed');
  assert.deepEqual(out.results, [{ ok: false, reason: 'cancel' }, { ok: false, reason: 'closed' }]);
});

test('Receiver ignores frames with no request', () => {
  const { r, out } = receive();
  assert.ok(r.binary(new Uint8Array(10)));
  assert.ok(r.control({ t: 'data', id: 9, seq: 1, size: 10 }));
  assert.deepEqual(out.results, []);
});

test('chunks splits into frames of at most 16 KiB', () => {
  const sizes = [...chunks(segment(2 * CHUNK + 1))].map((c) => c.byteLength);
  assert.deepEqual(sizes, [CHUNK, CHUNK, 1]);
  assert.deepEqual([...chunks(new ArrayBuffer(0))], []);
});
