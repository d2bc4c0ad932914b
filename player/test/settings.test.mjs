import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MEMORY_LARGE, MEMORY_SMALL, MEMORY_UNKNOWN, effectiveConfig, isMetered, memoryCap, parseMode, stricter, userMode,
} from '../src/p2p/settings.js';

test('parseMode', () => {
  const cases = [['on', 'on'], ['OFF', 'off'], [' download-only ', 'download-only'], ['1', 'on'], ['false', 'off'],
    ['', ''], [null, ''], ['maybe', ''], [undefined, '']];
  for (const [v, want] of cases) assert.equal(parseMode(v), want, String(v));
});

test('stricter', () => {
  assert.equal(stricter('on', 'download-only'), 'download-only');
  assert.equal(stricter('off', 'on'), 'off');
  assert.equal(stricter('on', ''), 'on');
});

test('memoryCap by device class', () => {
  const cases = [[0.5, MEMORY_SMALL], [2, MEMORY_SMALL], [4, MEMORY_LARGE], [8, MEMORY_LARGE], [undefined, MEMORY_UNKNOWN], [0, MEMORY_UNKNOWN]];
  for (const [gb, want] of cases) assert.equal(memoryCap(gb), want, String(gb));
  assert.equal(MEMORY_SMALL, 50 * 1024 * 1024);
  assert.equal(MEMORY_LARGE, 200 * 1024 * 1024);
});

test('metered connections only download', () => {
  assert.equal(isMetered({ saveData: true }), true);
  assert.equal(isMetered({ type: 'cellular' }), true);
  assert.equal(isMetered({ type: 'wifi', saveData: false }), false);
  assert.equal(isMetered(undefined), false);
  assert.equal(userMode('on', { type: 'cellular' }), 'download-only');
  assert.equal(userMode('off', { type: 'cellular' }), 'off');
  assert.equal(userMode('', { type: 'ethernet' }), 'on');
  assert.equal(userMode('download-only', null), 'download-only');
});

test('effectiveConfig merges tracker config and player overrides', () => {
  assert.deepEqual(effectiveConfig(undefined), { maxPeers: 3, windowLo: 6, windowHi: 30, httpMargin: 4, spike: false });
  assert.deepEqual(effectiveConfig({ max_peers: 4, p2p_window_s: [4, 60], http_margin_s: 2, spike: true }),
    { maxPeers: 4, windowLo: 4, windowHi: 60, httpMargin: 2, spike: true });
  assert.deepEqual(effectiveConfig({ max_peers: 3 }, { httpMarginS: 8, windowS: [10, 20], maxPeers: 1 }),
    { maxPeers: 1, windowLo: 10, windowHi: 20, httpMargin: 8, spike: false });
  // Garbage from the wire falls back to defaults.
  assert.deepEqual(effectiveConfig({ max_peers: 'x', p2p_window_s: [-1, 1e9], http_margin_s: null }),
    { maxPeers: 3, windowLo: 6, windowHi: 30, httpMargin: 4, spike: false });
  assert.deepEqual(effectiveConfig({ p2p_window_s: [30, 6] }), { maxPeers: 3, windowLo: 30, windowHi: 30, httpMargin: 4, spike: false });
});
