// Engine + session + peer + fetch, end to end in one process, with the
// fakes from harness.mjs standing in for the tracker, WebRTC and HTTP.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { Engine } from '../src/p2p/engine.js';
import { createFragmentLoader } from '../src/p2p/loader.js';
import { FakeVideo, HTTP, MiniTracker, content, edgeFetch, makeRTC, sha256 } from './harness.mjs';

const URL0 = 'http://edge/v/demo/720p/';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const engines = [];

afterEach(() => {
  for (const e of engines.splice(0)) e.destroy();
});

function viewer(tracker, fault, ahead, fetch) {
  const engine = new Engine({
    env: {
      WebSocket: tracker.socketClass(),
      RTCPeerConnection: makeRTC(fault),
      subtle: webcrypto.subtle,
      fetch: fetch || (async () => ({ ok: false })),
      navigator: {},
      location: { protocol: 'http:', host: 'edge' },
    },
  });
  const video = new FakeVideo(ahead);
  engine.attach(video);
  engines.push(engine);
  return { engine, video, Loader: createFragmentLoader(engine) };
}

function load(v, seq, start) {
  return new Promise((resolve, reject) => {
    const l = new v.Loader({ loader: HTTP });
    const ctx = { url: `${URL0}seg-${seq}.m4s`, type: 'media-fragment', responseType: 'arraybuffer', frag: { sn: seq, start, duration: 2 }, part: null, rangeStart: 0, rangeEnd: 0 };
    l.load(ctx, { loadPolicy: {} }, {
      onSuccess: (res, stats, c, details) => resolve({ data: new Uint8Array(res.data), stats, details: details || { source: 'http' } }),
      onError: (e) => reject(new Error(e.text)),
      onTimeout: () => reject(new Error('timeout')),
    });
  });
}

function publish(tracker, seqs, wrong = -1) {
  for (const s of seqs) {
    const sum = sha256(content(s));
    tracker.hashes.set(s, { sha256: s === wrong ? sum.replace(/^./, (c) => (c === '0' ? '1' : '0')) : sum, size: content(s).byteLength });
  }
}

// joined waits until both engines have an open channel to each other.
async function connected(...vs) {
  for (let i = 0; i < 200; i++) {
    if (vs.every((v) => v.engine.stats.peersConnected > 0)) return;
    await sleep(5);
  }
  throw new Error('peers did not connect');
}

async function prepared(tracker, fault, fetch) {
  publish(tracker, [0, 1, 2, 3, 4, 5], 5);
  const a = viewer(tracker, fault, 0);
  const b = viewer(tracker, null, 0, fetch);
  a.engine.prepare(`${URL0}media.m3u8`);
  b.engine.prepare(`${URL0}media.m3u8`);
  await connected(a, b);
  for (const s of [0, 1, 2, 3, 4, 5]) await load(a, s, 2 * s); // a's buffer is empty: all HTTP
  await sleep(200); // have messages and the channel's have
  return { a, b };
}

test('a segment held by a neighbor comes from it, verified; startup uses HTTP', async () => {
  const tracker = new MiniTracker();
  const { a, b } = await prepared(tracker, null);
  assert.equal(a.engine.stats.segmentsFromHTTP, 6);

  // Startup: b's buffer is empty, so HTTP although a holds the segment.
  HTTP.requests = [];
  let got = await load(b, 0, 0);
  assert.equal(got.details.source, 'http');
  assert.deepEqual(HTTP.requests, [`${URL0}seg-0.m4s`]);

  // In the window with a healthy buffer: from a.
  b.video.setAhead(10);
  got = await load(b, 3, 12);
  assert.equal(got.details.source, 'peer');
  assert.deepEqual(got.data, content(3));
  assert.equal(b.engine.stats.bytesFromPeers, content(3).byteLength);
  assert.equal(a.engine.stats.bytesUploaded, content(3).byteLength);

  // Nearer than the window's low edge: HTTP.
  got = await load(b, 4, 5);
  assert.equal(got.details.source, 'http');

  const kinds = tracker.reports.filter((r) => r.seq === 3).map((r) => `${r.source}:${r.ok}:${r.bytes}`);
  assert.deepEqual(kinds.sort(), [`http:true:${content(3).byteLength}`, `peer:true:${content(3).byteLength}`]);
});

test('a wrong segment is rejected, reported and its peer dropped; HTTP takes over', async () => {
  const tracker = new MiniTracker();
  const { a, b } = await prepared(tracker, null);
  b.video.setAhead(10);
  // The edge's hash for 5 does not match what a holds (a corrupt copy).
  const got = await load(b, 5, 12);
  assert.equal(got.details.source, 'http');
  assert.deepEqual(got.data, content(5));
  assert.equal(b.engine.stats.hashFailures, 1);
  assert.equal(b.engine.stats.badPeers, 1);
  const bad = tracker.reports.find((r) => r.source === 'peer' && !r.ok);
  assert.equal(bad.reason, 'hash');
  assert.equal(bad.bytes, 0);
  await sleep(20);
  assert.equal(b.engine.stats.peersConnected, 0, 'channel to the bad peer closed');
  // It is never asked again, even for good segments.
  const next = await load(b, 3, 14);
  assert.equal(next.details.source, 'http');
  void a;
});

test('bytes flipped in transit are caught by the hash', async () => {
  const tracker = new MiniTracker();
  const flip = (frame) => {
    const b = new Uint8Array(frame);
    b[0] ^= 1;
    return b.buffer;
  };
  const { b } = await prepared(tracker, flip);
  b.video.setAhead(10);
  const got = await load(b, 2, 12);
  assert.equal(got.details.source, 'http');
  assert.deepEqual(got.data, content(2));
  assert.equal(b.engine.stats.hashFailures, 1);
});

test('a stalled peer transfer is abandoned for HTTP when the buffer runs low', async () => {
  const tracker = new MiniTracker();
  const { b } = await prepared(tracker, () => null); // a sends no bytes
  b.video.setAhead(10);
  const pending = load(b, 2, 12);
  await sleep(300);
  b.video.setAhead(3); // below http_margin_s = 4
  const got = await pending;
  assert.equal(got.details.source, 'http');
  assert.deepEqual(got.data, content(2));
  const r = tracker.reports.find((x) => x.source === 'peer' && !x.ok);
  assert.equal(r.reason, 'timeout');
  assert.equal(b.engine.stats.hashFailures, 0);
  assert.equal(b.engine.stats.peerFailures, 1);
});

// late(n, edit) lets the uploader's first n frames through (edit may change
// them) and drops the rest: a transfer that stalls part way.
function late(n, edit = (f) => f) {
  let i = 0;
  return (frame) => (i++ < n ? edit(frame) : null);
}

async function until(cond, what) {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await sleep(5);
  }
  throw new Error(`never: ${what}`);
}

// received is how many bytes of the transfer in flight v has got (-1: none).
function received(v) {
  for (const s of v.engine.sessions.values()) for (const l of s.links.values()) if (l.receiver.rx) return l.receiver.rx.got;
  return -1;
}

// lateLoad loads seq 2 into b from a, letting the buffer run low once b got
// `got` bytes, so that the transfer is abandoned as late.
async function lateLoad(b, got) {
  HTTP.requests = [];
  b.video.setAhead(10);
  const pending = load(b, 2, 12);
  await until(() => received(b) >= got, `${got} bytes from the peer`);
  b.video.setAhead(3); // below http_margin_s = 4
  return pending;
}

const SEG = `${URL0}seg-2.m4s`;
// reportsOf lists v's reports about seq 2 from source, as ok:reason:bytes.
const reportsOf = (tracker, v, source) =>
  tracker.reports.filter((r) => r.from === v.engine.stats.peerIds[0] && r.seq === 2 && r.source === source).map((r) => `${r.ok}:${r.reason || ''}:${r.bytes}`);

test('a late transfer keeps the peer bytes and takes only the rest over HTTP', async () => {
  const tracker = new MiniTracker();
  const fetch = edgeFetch();
  const { b } = await prepared(tracker, late(2), fetch);
  const size = content(2).byteLength;
  const kept = 2 * 16384;
  const got = await lateLoad(b, kept);
  assert.equal(got.details.source, 'peer');
  assert.equal(got.details.httpBytes, size - kept);
  assert.deepEqual(got.data, content(2));
  assert.deepEqual(fetch.requests, [{ url: SEG, range: `bytes=${kept}-${size - 1}` }]);
  assert.deepEqual(HTTP.requests, [], 'no full HTTP load');
  // hls.js's stats describe the whole segment.
  assert.equal(got.stats.loaded, size);
  assert.equal(got.stats.total, size);
  assert.ok(got.stats.loading.start <= got.stats.loading.first && got.stats.loading.first <= got.stats.loading.end);
  // The page's split: the prefix from the peer, the tail over HTTP.
  const st = b.engine.stats;
  assert.equal(st.bytesFromPeers, kept);
  assert.equal(st.bytesFromHTTP, size - kept);
  assert.equal(st.peerTails, 1);
  assert.equal(st.hashFailures, 0);
  assert.equal(st.p2pPercent, Math.round((1000 * kept) / size) / 10);
  await until(() => reportsOf(tracker, b, 'http').length > 0, 'http report');
  assert.deepEqual(reportsOf(tracker, b, 'peer'), [`false:timeout:${kept}`]);
  assert.deepEqual(reportsOf(tracker, b, 'http'), [`true::${size - kept}`]);
  // The whole verified segment is held: a replay comes from the store.
  const again = await load(b, 2, 12);
  assert.equal(again.details.source, 'cache');
  assert.deepEqual(again.data, content(2));
});

test('a late transfer with a bad prefix fails the hash: peer reported and dropped, HTTP in full', async () => {
  const tracker = new MiniTracker();
  const fetch = edgeFetch();
  const flip = (frame) => {
    const u = new Uint8Array(frame);
    u[100] ^= 1;
    return u.buffer;
  };
  const { b } = await prepared(tracker, late(2, flip), fetch);
  const got = await lateLoad(b, 2 * 16384);
  assert.equal(got.details.source, 'http');
  assert.deepEqual(got.data, content(2));
  assert.equal(fetch.requests.length, 1, 'the range was fetched');
  assert.deepEqual(HTTP.requests, [SEG]);
  const st = b.engine.stats;
  assert.equal(st.hashFailures, 1);
  assert.equal(st.badPeers, 1);
  assert.equal(st.bytesFromPeers, 0);
  assert.equal(st.peerTails, 0);
  await until(() => reportsOf(tracker, b, 'http').length > 0, 'http report');
  assert.deepEqual(reportsOf(tracker, b, 'peer'), ['false:hash:0']);
  await until(() => st.peersConnected === 0, 'the bad peer dropped');
});

test('an edge ignoring the Range request: the segment over HTTP in full', async () => {
  const tracker = new MiniTracker();
  const fetch = edgeFetch({ ignoreRange: true });
  const { b } = await prepared(tracker, late(2), fetch);
  const got = await lateLoad(b, 2 * 16384);
  assert.equal(got.details.source, 'http');
  assert.deepEqual(got.data, content(2));
  assert.equal(fetch.requests.length, 1);
  assert.deepEqual(HTTP.requests, [SEG]);
  assert.equal(b.engine.stats.bytesFromPeers, 0);
  assert.equal(b.engine.stats.bytesFromHTTP, content(2).byteLength);
  assert.equal(b.engine.stats.hashFailures, 0);
  await until(() => reportsOf(tracker, b, 'http').length > 0, 'http report');
  assert.deepEqual(reportsOf(tracker, b, 'peer'), ['false:timeout:0']);
});

test('a tiny prefix is not worth a range: the segment over HTTP in full', async () => {
  const tracker = new MiniTracker();
  const fetch = edgeFetch();
  const { b } = await prepared(tracker, late(1, (f) => f.slice(0, 1000)), fetch);
  const got = await lateLoad(b, 1000);
  assert.equal(got.details.source, 'http');
  assert.deepEqual(got.data, content(2));
  assert.deepEqual(fetch.requests, []);
  assert.deepEqual(HTTP.requests, [SEG]);
  assert.equal(b.engine.stats.bytesFromPeers, 0);
  await until(() => reportsOf(tracker, b, 'http').length > 0, 'http report');
  assert.deepEqual(reportsOf(tracker, b, 'peer'), ['false:timeout:0']);
});

test('download-only does not upload', async () => {
  const tracker = new MiniTracker();
  publish(tracker, [1]);
  const env = (fault) => ({
    WebSocket: tracker.socketClass(), RTCPeerConnection: makeRTC(fault), subtle: webcrypto.subtle,
    fetch: async () => ({ ok: false }), navigator: {}, location: { protocol: 'http:', host: 'edge' },
  });
  const a = new Engine({ env: env(null), mode: 'download-only' });
  const b = new Engine({ env: env(null) });
  engines.push(a, b);
  a.attach(new FakeVideo(0));
  const bv = new FakeVideo(10);
  b.attach(bv);
  const A = { engine: a, Loader: createFragmentLoader(a) };
  const B = { engine: b, Loader: createFragmentLoader(b) };
  a.prepare(`${URL0}media.m3u8`);
  b.prepare(`${URL0}media.m3u8`);
  await connected(A, B);
  await load(A, 1, 2);
  await sleep(100);
  assert.equal(tracker.peers.get(a.stats.peerIds[0]).have.size, 0, 'no have from a download-only client');
  const got = await load(B, 1, 12);
  assert.equal(got.details.source, 'http');
  assert.equal(a.stats.bytesUploaded, 0);
});

test('segments loaded before the welcome are reported after it', async () => {
  const tracker = new MiniTracker();
  const a = viewer(tracker, null, 0);
  const got = await load(a, 0, 0); // the session is created by this load
  assert.equal(got.details.source, 'http');
  for (let i = 0; i < 100 && tracker.reports.length === 0; i++) await sleep(5);
  assert.deepEqual(tracker.reports.map((r) => `${r.seq}:${r.source}:${r.bytes}`), [`0:http:${content(0).byteLength}`]);
});
