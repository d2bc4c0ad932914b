import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SUBPROTOCOL, TrackerClient, parseMessage } from '../src/p2p/tracker.js';

// LoopSocket is an in-process tracker end: it records what the client sends
// and lets the test push frames.
class LoopSocket {
  constructor(url, protocol) {
    this.url = url;
    this.protocol = protocol;
    this.readyState = 0;
    this.sent = [];
    LoopSocket.last = this;
    setTimeout(() => {
      this.readyState = 1;
      this.onopen();
    }, 1);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  push(m) {
    this.onmessage({ data: typeof m === 'string' ? m : JSON.stringify(m) });
  }
  close(code) {
    this.readyState = 3;
    setTimeout(() => this.onclose({ code: code || 1000 }), 1);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('join first, want answered by peers, pacing, bye', async () => {
  const got = [];
  const c = new TrackerClient({ url: 'ws://h/p2p/ws', swarm: 'vod/demo/720p', upload: true, WebSocket: LoopSocket, onMessage: (m) => got.push(m) });
  c.start();
  await sleep(10);
  const ws = LoopSocket.last;
  assert.equal(ws.protocol, SUBPROTOCOL);
  assert.deepEqual(ws.sent[0], { t: 'join', swarm: 'vod/demo/720p', upload: true });
  assert.equal(await c.want(3, 50), null, 'no want before welcome');
  ws.push({ t: 'welcome', v: 1, peer: '0123456789abcdef', group: 'g', policy: 'on', config: {}, extra: true });
  ws.push('not json');
  ws.push({ t: 'future-type' });
  const w = c.want(3, 1000);
  await sleep(5);
  assert.deepEqual(ws.sent.at(-1), { t: 'want', seq: 3 });
  ws.push({ t: 'peers', seq: 3, fetch: false, peers: ['fedcba9876543210'], sha256: '', size: 0 });
  assert.deepEqual((await w).peers, ['fedcba9876543210']);
  assert.deepEqual(got.map((m) => m.t), ['welcome', 'future-type', 'peers']);
  assert.equal(await c.want(4, 20), null, 'want times out');
  assert.equal(c.waiters.size, 0, 'timed-out waiters are forgotten');

  // A burst of 100 messages is paced: only the bucket's burst goes out at once.
  const before = ws.sent.length;
  for (let i = 0; i < 100; i++) c.send({ t: 'have', ranges: [[i, i]] });
  assert.ok(ws.sent.length - before <= 24, `sent ${ws.sent.length - before} at once`);
  c.close();
  assert.deepEqual(ws.sent.at(-1), { t: 'bye' });
});

test('reconnects after the socket closes, rejoins', async () => {
  const c = new TrackerClient({ url: 'ws://h/p2p/ws', swarm: 'live/s/r', WebSocket: LoopSocket, onMessage: () => {} });
  c.start();
  await sleep(10);
  c.backoff = 5; // after the open, which resets it
  const first = LoopSocket.last;
  first.close(1001);
  await sleep(60);
  c.close();
  assert.notEqual(LoopSocket.last, first);
  assert.deepEqual(LoopSocket.last.sent[0], { t: 'join', swarm: 'live/s/r', upload: false });
  c.close();
});

test('unknown_swarm stops reconnecting', async () => {
  const c = new TrackerClient({ url: 'ws://h/p2p/ws', swarm: 'vod/x/y', WebSocket: LoopSocket, onMessage: () => {} });
  c.backoff = 5;
  c.start();
  await sleep(10);
  const ws = LoopSocket.last;
  ws.push({ t: 'error', code: 'unknown_swarm', msg: '' });
  ws.close(1008);
  await sleep(40);
  assert.equal(LoopSocket.last, ws);
  c.close();
});

test('parseMessage', () => {
  assert.deepEqual(parseMessage('{"t":"hash","seq":1}'), { t: 'hash', seq: 1 });
  for (const bad of ['[]', '1', '{"t":1}', '{}', 'x', null]) assert.equal(parseMessage(bad), null, String(bad));
});
