import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../src/p2p/engine.js';
import { createFragmentLoader } from '../src/p2p/loader.js';

// HTTPLoader stands in for hls.js's XhrLoader: same contract (refuses used
// stats, answers with an ArrayBuffer it then owns).
class HTTPLoader {
  constructor() {
    this.stats = { loading: { start: 0 } };
    HTTPLoader.calls = (HTTPLoader.calls || 0) + 1;
  }
  load(context, config, callbacks) {
    if (this.stats.loading.start) throw new Error('Loader can only be used once.');
    this.stats.loading.start = performance.now();
    const data = new Uint8Array(HTTPLoader.size).fill(7).buffer;
    setTimeout(() => callbacks.onSuccess({ url: context.url, data }, this.stats, context, null), 1);
  }
  abort() {}
  destroy() {}
}
HTTPLoader.size = 1000;

// SilentSocket never opens: the tracker is unreachable.
class SilentSocket {
  constructor() {
    this.readyState = 0;
  }
  send() {}
  close() {}
}

function context(url, sn) {
  return { url, type: 'media-fragment', responseType: 'arraybuffer', frag: { sn, start: 0, duration: 6 }, part: null, rangeStart: 0, rangeEnd: 0 };
}

function load(Loader, ctx) {
  return new Promise((resolve, reject) => {
    const l = new Loader({ loader: HTTPLoader });
    l.load(ctx, { loadPolicy: {} }, {
      onSuccess: (res, stats, c, details) => resolve({ res, stats, details, loader: l }),
      onError: (e) => reject(new Error(e.text)),
      onTimeout: () => reject(new Error('timeout')),
    });
  });
}

const env = (o) => ({ fetch: async () => ({ ok: false }), navigator: {}, location: { protocol: 'http:', host: '127.0.0.1:1' }, RTCPeerConnection: undefined, ...o });

test('without a tracker every segment comes over HTTP and is counted', async () => {
  const engine = new Engine({ env: env({ WebSocket: undefined }) });
  assert.equal(engine.stats.mode, 'off');
  const Loader = createFragmentLoader(engine);
  const init = await load(Loader, context('http://h/v/demo/720p/init.mp4', 'initSegment'));
  assert.equal(init.res.data.byteLength, 1000);
  assert.equal(engine.stats.bytesFromHTTP, 0, 'init segments are not counted');
  const seg = await load(Loader, context('http://h/v/demo/720p/seg-0.m4s', 0));
  assert.equal(seg.res.data.byteLength, 1000);
  assert.equal(engine.stats.bytesFromHTTP, 1000);
  assert.equal(engine.stats.httpPercent, 100);
});

test('HTTP segments are copied into the store and replayed from it', async () => {
  const engine = new Engine({ env: env({ WebSocket: SilentSocket }), mode: 'on' });
  assert.equal(engine.stats.mode, 'on');
  const Loader = createFragmentLoader(engine);
  const url = 'http://h/t/token/v/demo/720p/seg-4.m4s';
  const first = await load(Loader, context(url, 4));
  assert.ok(first.stats.loading.start > 0);
  assert.equal(engine.stats.bytesFromHTTP, 1000);
  assert.equal(engine.stats.swarms[0], 'vod/demo/720p');
  assert.equal(engine.store.bytes, 1000);
  // hls.js transfers the buffer it got to its worker: the store keeps its own copy.
  structuredClone(first.res.data, { transfer: [first.res.data] });
  assert.equal(first.res.data.byteLength, 0);
  const calls = HTTPLoader.calls;
  const again = await load(Loader, context(url, 4));
  assert.equal(HTTPLoader.calls, calls, 'served from the store');
  assert.equal(again.details.source, 'cache');
  assert.equal(again.res.data.byteLength, 1000);
  assert.equal(engine.stats.segmentsFromCache, 1);
  assert.equal(engine.stats.bytesFromHTTP, 1000, 'a replay is not new traffic');
  engine.destroy();
});

test('the memory cap evicts the oldest segments', async () => {
  const engine = new Engine({ env: env({ WebSocket: SilentSocket }), memoryBytes: 2500 });
  const Loader = createFragmentLoader(engine);
  for (let i = 0; i < 4; i++) await load(Loader, context(`http://h/v/demo/720p/seg-${i}.m4s`, i));
  assert.deepEqual(engine.store.seqs('vod/demo/720p'), [2, 3]);
  assert.equal(engine.stats.heldBytes, 2000);
  engine.destroy();
});

test('parts, byte ranges and unknown URLs bypass P2P', () => {
  const engine = new Engine({ env: env({ WebSocket: SilentSocket }) });
  const aborted = () => false;
  assert.equal(engine.job({ ...context('http://h/v/demo/720p/seg-1.m4s', 1), part: {} }, aborted), null);
  assert.equal(engine.job({ ...context('http://h/v/demo/720p/seg-1.m4s', 1), rangeEnd: 100 }, aborted), null);
  assert.equal(engine.job(context('http://h/other/seg-1.m4s', 1), aborted), null);
  assert.equal(engine.job(context('http://h/v/demo/720p/init.mp4', 'initSegment'), aborted), null);
  assert.ok(engine.job(context('http://h/v/demo/720p/seg-1.m4s', 1), aborted));
  engine.destroy();
});

test('p2p=off and metered connections', () => {
  const off = new Engine({ env: env({ WebSocket: SilentSocket }), mode: 'off' });
  assert.equal(off.stats.mode, 'off');
  assert.equal(off.job(context('http://h/v/demo/720p/seg-1.m4s', 1), () => false), null);
  const metered = new Engine({ env: env({ WebSocket: SilentSocket, RTCPeerConnection: function () {}, navigator: { connection: { type: 'cellular' }, deviceMemory: 1 } }) });
  assert.equal(metered.stats.mode, 'download-only');
  assert.equal(metered.stats.upload, false);
  assert.equal(metered.stats.memoryCap, 50 * 1024 * 1024);
});
