// Client of the edge's tracker (/p2p/ws, subprotocol classmesh-p2p.v1): one
// WebSocket per swarm, JSON text frames. Sends are paced by a token bucket
// below the tracker's per-connection limit; the socket reconnects with
// backoff (a new connection means a new peer id and a fresh welcome).

export const SUBPROTOCOL = 'classmesh-p2p.v1';

// Client-side pacing, below the tracker's default 20/s, burst 40.
const RATE_PER_S = 12;
const BURST = 24;
const QUEUE_MAX = 512;
const KEEPALIVE_MS = 50000;
const MAX_INBOUND = 1 << 20;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60000;

// parseMessage decodes one tracker frame; it returns null for anything that
// is not a JSON object with a string "t" (such frames are ignored).
export function parseMessage(text) {
  if (typeof text !== 'string' || text.length > MAX_INBOUND) return null;
  let m;
  try {
    m = JSON.parse(text);
  } catch (_) {
    return null;
  }
  if (!m || typeof m !== 'object' || Array.isArray(m) || typeof m.t !== 'string') return null;
  return m;
}

// TrackerClient keeps one swarm membership alive.
export class TrackerClient {
  // opts: {url, swarm, upload, WebSocket, onMessage(msg), onOpen(), onClose(info), timers}
  constructor(opts) {
    this.opts = opts;
    this.WS = opts.WebSocket || globalThis.WebSocket;
    this.ws = null;
    this.closed = false;
    this.joined = false;
    this.queue = [];
    this.tokens = BURST;
    this.lastRefill = Date.now();
    this.lastSent = 0;
    this.pump = null;
    this.backoff = BACKOFF_MIN_MS;
    this.reconnect = null;
    this.keepalive = null;
    this.waiters = new Map(); // seq → [resolve]
    this.stopped = '';
  }

  start() {
    if (this.closed || !this.WS) return;
    let ws;
    try {
      ws = new this.WS(this.opts.url, SUBPROTOCOL);
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.handleOpen(ws);
    ws.onmessage = (ev) => {
      if (ws === this.ws) this.handleMessage(ev.data);
    };
    ws.onclose = (ev) => {
      if (ws === this.ws) this.handleClose(ev);
    };
    ws.onerror = () => {};
  }

  handleOpen(ws) {
    if (ws !== this.ws) return;
    this.backoff = BACKOFF_MIN_MS;
    this.queue = [];
    this.sendNow({ t: 'join', swarm: this.opts.swarm, upload: Boolean(this.opts.upload) });
    clearInterval(this.keepalive);
    this.keepalive = setInterval(() => {
      if (Date.now() - this.lastSent >= KEEPALIVE_MS) this.send({ t: 'have', ranges: [] });
    }, KEEPALIVE_MS / 5);
    if (this.opts.onOpen) this.opts.onOpen();
  }

  handleMessage(data) {
    const m = parseMessage(data);
    if (!m) return;
    if (m.t === 'welcome') this.joined = true;
    if (m.t === 'peers' && Number.isSafeInteger(m.seq)) this.resolveWant(m.seq, m);
    if (m.t === 'error' && m.code === 'unknown_swarm') this.stopped = 'unknown_swarm';
    if (m.t === 'error' && m.code === 'dropped') this.stopped = 'dropped';
    if (m.t === 'error' && m.code === 'forbidden') this.stopped = 'forbidden';
    this.opts.onMessage(m);
  }

  handleClose(ev) {
    this.ws = null;
    this.joined = false;
    clearInterval(this.keepalive);
    this.queue = [];
    for (const seq of Array.from(this.waiters.keys())) this.resolveWant(seq, null);
    if (this.opts.onClose) this.opts.onClose({ code: ev && ev.code, stopped: this.stopped });
    if (!this.closed && !this.stopped) this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.closed || this.reconnect) return;
    const delay = this.backoff * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    this.reconnect = setTimeout(() => {
      this.reconnect = null;
      this.start();
    }, delay);
  }

  // send queues a message; the queue is drained at the paced rate. Messages
  // sent while disconnected are dropped (state is re-announced on welcome).
  send(msg) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    if (this.queue.length >= QUEUE_MAX) this.queue.shift();
    this.queue.push(msg);
    this.drain();
    return true;
  }

  drain() {
    const now = Date.now();
    this.tokens = Math.min(BURST, this.tokens + ((now - this.lastRefill) / 1000) * RATE_PER_S);
    this.lastRefill = now;
    while (this.queue.length && this.tokens >= 1) {
      this.tokens -= 1;
      this.sendNow(this.queue.shift());
    }
    if (this.queue.length && !this.pump) {
      this.pump = setTimeout(() => {
        this.pump = null;
        this.drain();
      }, Math.ceil(1000 / RATE_PER_S));
    }
  }

  sendNow(msg) {
    if (!this.ws || this.ws.readyState !== 1) return;
    try {
      this.ws.send(JSON.stringify(msg));
      this.lastSent = Date.now();
    } catch (_) {
      // The close event follows.
    }
  }

  // want asks whom to ask for seq; it resolves with the tracker's "peers"
  // message, or null after timeoutMs or when the socket closes.
  want(seq, timeoutMs) {
    if (!this.joined) return Promise.resolve(null);
    return new Promise((resolve) => {
      const list = this.waiters.get(seq) || [];
      const done = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      const timer = setTimeout(() => {
        const rest = (this.waiters.get(seq) || []).filter((d) => d !== done);
        if (rest.length) this.waiters.set(seq, rest);
        else this.waiters.delete(seq);
        resolve(null);
      }, timeoutMs);
      list.push(done);
      this.waiters.set(seq, list);
      this.send({ t: 'want', seq });
    });
  }

  resolveWant(seq, m) {
    const list = this.waiters.get(seq);
    if (!list) return;
    this.waiters.delete(seq);
    for (const done of list) done(m);
  }

  // close says bye and stops reconnecting.
  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnect);
    clearTimeout(this.pump);
    clearInterval(this.keepalive);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        if (ws.readyState === 1) ws.send(JSON.stringify({ t: 'bye' }));
        ws.close(1000);
      } catch (_) {
        // Already closing.
      }
    }
    for (const seq of Array.from(this.waiters.keys())) this.resolveWant(seq, null);
  }
}
