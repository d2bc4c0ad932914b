// Randomised robustness tests for every decoder of bytes from outside (the
// tracker, peers, the edge's hash list, URLs): they must never throw and
// never accept malformed input. Seeded, so failures reproduce; set
// P2P_FUZZ_ITERATIONS to run longer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Receiver, parseControl } from '../src/p2p/channel.js';
import { parseHashList } from '../src/p2p/hashes.js';
import { parseRanges } from '../src/p2p/ranges.js';
import { segmentSeq, swarmFromURL } from '../src/p2p/swarm.js';
import { parseMessage } from '../src/p2p/tracker.js';

const N = Number(process.env.P2P_FUZZ_ITERATIONS) || 20000;

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const seeds = [
  '{"t":"have","ranges":[[0,5],[8,8]]}', '{"t":"get","id":7,"seq":12}', '{"t":"data","id":7,"seq":12,"size":100}',
  '{"t":"none","id":7}', '{"t":"cancel","id":7}', '{"t":"welcome","v":1,"peer":"0123456789abcdef","group":"g","policy":"on","config":{}}',
  '{"t":"peers","seq":1,"fetch":false,"peers":["0123456789abcdef"],"sha256":"","size":0}',
  '{"v":1,"swarm":"vod/demo/720p","segments":[{"seq":0,"sha256":"' + 'ab'.repeat(32) + '","size":1}]}',
  '/v/demo/720p/seg-1.m4s', '/t/x/v/a/b/seg-0.m4s', '/live/s/r/media.m3u8',
];
const alphabet = '{}[]",:0123456789-.eE tfnrulasvhgidcopqyz/%~_\\u00\x00\uffff';

function mutate(r, s) {
  const chars = Array.from(s);
  const ops = 1 + Math.floor(r() * 4);
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(r() * (chars.length + 1));
    const op = r();
    const c = alphabet[Math.floor(r() * alphabet.length)];
    if (op < 0.4) chars.splice(at, 0, c);
    else if (op < 0.7) chars.splice(at, 1);
    else if (op < 0.9) chars[at] = c;
    else chars.splice(at, 0, ...chars.slice(0, Math.floor(r() * chars.length)));
  }
  return chars.join('');
}

test('decoders never throw on mutated input', () => {
  const r = rng(1);
  for (let i = 0; i < N; i++) {
    const text = mutate(r, seeds[Math.floor(r() * seeds.length)]);
    const c = parseControl(text);
    if (c && c.t === 'have') assert.ok(Array.isArray(c.ranges));
    if (c && c.t === 'data') assert.ok(Number.isSafeInteger(c.size) && c.size >= 0);
    const m = parseMessage(text);
    if (m) assert.equal(typeof m.t, 'string');
    const list = parseHashList(text, 'vod/demo/720p');
    if (list) for (const s of list) assert.match(s.sha256, /^[0-9a-f]{64}$/);
    const swarm = swarmFromURL(text);
    if (swarm) assert.match(swarm, /^(vod|live)\/[A-Za-z0-9._~-]+\/[A-Za-z0-9._~-]+$/);
    const seq = segmentSeq(text);
    assert.ok(seq === -1 || Number.isSafeInteger(seq));
    let v;
    try {
      v = JSON.parse(text);
    } catch (_) {
      v = text;
    }
    const ranges = parseRanges(v);
    if (ranges) for (const [a, b] of ranges) assert.ok(a <= b);
  }
});

test('Receiver survives random frame sequences within its limit', () => {
  const r = rng(2);
  const max = 64 * 1024;
  for (let i = 0; i < N / 10; i++) {
    const rx = new Receiver(max);
    let results = 0;
    let id = 1;
    for (let step = 0; step < 30; step++) {
      const op = r();
      if (op < 0.2) rx.begin(id++, Math.floor(r() * 4), r() < 0.5 ? 0 : Math.floor(r() * 2 * max), (res) => {
        results++;
        if (res.ok) assert.ok(res.data.byteLength > 0 && res.data.byteLength <= max);
      });
      else if (op < 0.5) rx.control({ t: r() < 0.3 ? 'none' : 'data', id: Math.floor(r() * id + 1), seq: Math.floor(r() * 4), size: Math.floor(r() * 2 * max) });
      else if (op < 0.95) rx.binary(new Uint8Array(Math.floor(r() * 20000)));
      else rx.cancel();
    }
    assert.ok(results <= id);
  }
});
