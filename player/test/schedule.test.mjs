import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HTTP, PEER, WAIT, abandon, orderPeers, plan, shouldOffer, stalled } from '../src/p2p/schedule.js';
import { effectiveConfig } from '../src/p2p/settings.js';

const cfg = effectiveConfig({ max_peers: 5, p2p_window_s: [6, 30], http_margin_s: 4, spike: false });

test('plan: startup and near segments over HTTP, the window from peers', () => {
  const base = { joined: true, download: true, bufferAhead: 20, untilPlay: 20 };
  const cases = [
    { name: 'in window', s: {}, want: PEER },
    { name: 'not joined yet', s: { joined: false }, want: HTTP },
    { name: 'download off', s: { download: false }, want: HTTP },
    { name: 'empty buffer (startup)', s: { bufferAhead: 0, untilPlay: 0 }, want: HTTP },
    { name: 'buffer below margin', s: { bufferAhead: 3.9, untilPlay: 8 }, want: HTTP },
    { name: 'buffer at margin', s: { bufferAhead: 4, untilPlay: 6 }, want: PEER },
    { name: 'nearer than window', s: { untilPlay: 5.9 }, want: HTTP },
    { name: 'window high edge', s: { untilPlay: 30 }, want: PEER },
    { name: 'beyond window', s: { untilPlay: 30.5 }, want: WAIT },
    { name: 'NaN buffer', s: { bufferAhead: NaN }, want: HTTP },
  ];
  for (const c of cases) assert.equal(plan({ ...base, ...c.s }, cfg), c.want, c.name);
  const spike = effectiveConfig({ p2p_window_s: [4, 60], http_margin_s: 4 });
  assert.equal(plan({ ...base, untilPlay: 45 }, spike), PEER);
  assert.equal(plan({ ...base, untilPlay: 4.5 }, spike), PEER);
});

test('abandon only while playing below the margin', () => {
  assert.equal(abandon(3.9, true, cfg), true);
  assert.equal(abandon(4, true, cfg), false);
  assert.equal(abandon(0, false, cfg), false);
  const over = effectiveConfig({ http_margin_s: 4 }, { httpMarginS: 10 });
  assert.equal(abandon(8, true, over), true);
});

test('stalled', () => {
  assert.equal(stalled(5000, 1000, 4000), false);
  assert.equal(stalled(5001, 1000, 4000), true);
});

test('orderPeers prefers open idle channels, keeps tracker order', () => {
  const st = { a: 'connecting', b: 'idle', c: 'busy', d: '', e: 'idle' };
  assert.deepEqual(orderPeers(['a', 'b', 'c', 'd', 'e'], (id) => st[id] || ''), ['b', 'e', 'c', 'a']);
  assert.deepEqual(orderPeers([], () => 'idle'), []);
});

test('shouldOffer: lower id offers, download-only always offers', () => {
  assert.equal(shouldOffer('0a', '0b', false), true);
  assert.equal(shouldOffer('0b', '0a', false), false);
  assert.equal(shouldOffer('0b', '0a', true), true);
});
