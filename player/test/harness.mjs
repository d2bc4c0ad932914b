// In-memory stand-ins for the browser's network for the P2P loader tests:
// a minimal tracker speaking the client side of PROTOCOL.md over a fake
// WebSocket, and fake RTCPeerConnections whose "classmesh" channels deliver
// frames between engines in the same process (optionally corrupting or
// dropping an uploader's binary frames). Not a tracker implementation: just
// enough to drive engine, session, peer and fetch logic deterministically.
import { createHash } from 'node:crypto';

export function content(seq, size = 50000) {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + seq * 13) & 0xff;
  return b;
}

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

// MiniTracker: one swarm group, everyone is everyone's neighbor.
export class MiniTracker {
  constructor(config) {
    this.config = config || { max_peers: 5, p2p_window_s: [6, 30], http_margin_s: 4, spike: false };
    this.peers = new Map(); // id → {socket, swarm, have:Set}
    this.hashes = new Map(); // seq → {sha256, size}
    this.reports = [];
    this.n = 0;
  }

  socketClass() {
    const tracker = this;
    return class FakeSocket {
      constructor(url, protocol) {
        this.protocol = protocol;
        this.readyState = 0;
        setTimeout(() => {
          this.readyState = 1;
          this.onopen();
        }, 0);
        this.tracker = tracker;
      }
      send(text) {
        if (this.readyState === 1) setTimeout(() => tracker.receive(this, JSON.parse(text)), 0);
      }
      deliver(m) {
        if (this.readyState === 1) setTimeout(() => this.readyState === 1 && this.onmessage({ data: JSON.stringify(m) }), 0);
      }
      close() {
        if (this.readyState === 3) return;
        this.readyState = 3;
        tracker.leave(this);
        setTimeout(() => this.onclose({ code: 1000 }), 0);
      }
    };
  }

  receive(socket, m) {
    const me = Array.from(this.peers.entries()).find(([, p]) => p.socket === socket);
    if (m.t === 'join') {
      const id = (++this.n).toString(16).padStart(16, '0');
      this.peers.set(id, { socket, swarm: m.swarm, have: new Set(), upload: m.upload });
      socket.deliver({ t: 'welcome', v: 1, peer: id, group: 'g', policy: 'on', config: this.config });
      this.announce();
      return;
    }
    if (!me) return;
    const [id, peer] = me;
    switch (m.t) {
      case 'have':
        for (const [a, b] of m.ranges) for (let s = a; s <= b; s++) peer.have.add(s);
        break;
      case 'lost':
        for (const [a, b] of m.ranges) for (let s = a; s <= b; s++) peer.have.delete(s);
        break;
      case 'want': {
        const holders = [...this.peers.entries()].filter(([pid, p]) => pid !== id && p.have.has(m.seq)).map(([pid]) => pid);
        const h = this.hashes.get(m.seq) || { sha256: '', size: 0 };
        socket.deliver({ t: 'peers', seq: m.seq, fetch: holders.length === 0, peers: holders, sha256: h.sha256, size: h.size });
        break;
      }
      case 'signal': {
        const to = this.peers.get(m.to);
        if (to) to.socket.deliver({ t: 'signal', from: id, data: m.data });
        break;
      }
      case 'report':
        this.reports.push({ from: id, ...m });
        break;
      case 'bye':
        socket.close();
        break;
      default:
        break;
    }
  }

  leave(socket) {
    for (const [id, p] of this.peers) if (p.socket === socket) this.peers.delete(id);
    this.announce();
  }

  announce() {
    const ids = [...this.peers.keys()];
    for (const [id, p] of this.peers) p.socket.deliver({ t: 'neighbors', peers: ids.filter((x) => x !== id) });
  }
}

// makeRTC returns a fake RTCPeerConnection class. fault(frame) may return a
// replacement binary frame or null to drop it (applied to what this side sends).
export function makeRTC(fault) {
  return class FakePC {
    constructor() {
      this.connectionState = 'new';
      this.localDescription = null;
      this.remoteDescription = null;
      this.dc = null;
    }
    createDataChannel(label) {
      this.dc = new FakeChannel(label, fault);
      return this.dc;
    }
    async createOffer() {
      const token = `offer-${++FakePC.n}-${Math.random()}`;
      OFFERS.set(token, this);
      return { type: 'offer', sdp: token };
    }
    async createAnswer() {
      return { type: 'answer', sdp: 'answer' };
    }
    async setLocalDescription(d) {
      this.localDescription = d;
    }
    async setRemoteDescription(d) {
      this.remoteDescription = d;
      if (d.type !== 'offer') return;
      const offerer = OFFERS.get(d.sdp);
      OFFERS.delete(d.sdp);
      const mine = new FakeChannel(offerer.dc.label, fault);
      this.dc = mine;
      FakeChannel.pair(offerer.dc, mine);
      setTimeout(() => {
        this.connectionState = offerer.connectionState = 'connected';
        if (this.ondatachannel) this.ondatachannel({ channel: mine });
        mine.open();
        offerer.dc.open();
      }, 0);
    }
    async addIceCandidate() {}
    close() {
      this.connectionState = 'closed';
      if (this.dc) this.dc.close();
    }
  };
}
const OFFERS = new Map();

class FakeChannel {
  constructor(label, fault) {
    this.label = label;
    this.fault = fault;
    this.readyState = 'connecting';
    this.bufferedAmount = 0;
    this.other = null;
  }
  static pair(a, b) {
    a.other = b;
    b.other = a;
  }
  open() {
    this.readyState = 'open';
    if (this.onopen) this.onopen();
  }
  send(data) {
    if (this.readyState !== 'open') throw new Error('channel not open');
    let frame = typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer;
    if (typeof frame !== 'string' && this.fault) frame = this.fault(frame);
    if (frame === null) return;
    const other = this.other;
    setTimeout(() => other.readyState === 'open' && other.onmessage && other.onmessage({ data: frame }), 0);
  }
  addEventListener() {}
  removeEventListener() {}
  close() {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    if (this.onclose) this.onclose();
    if (this.other) this.other.close();
  }
}

// FakeVideo is the part of <video> the engine reads.
export class FakeVideo {
  constructor(ahead = 0) {
    this.currentTime = 0;
    this.paused = false;
    this.ended = false;
    this.setAhead(ahead);
  }
  setAhead(ahead) {
    const end = this.currentTime + ahead;
    this.buffered = ahead > 0 ? { length: 1, start: () => this.currentTime, end: () => end } : { length: 0 };
  }
}

// HTTP is a fake hls.js default loader serving content(seq).
export class HTTP {
  constructor() {
    this.stats = { loading: { start: 0 } };
  }
  load(context, config, callbacks) {
    if (this.stats.loading.start) throw new Error('Loader can only be used once.');
    this.stats.loading.start = performance.now();
    HTTP.requests.push(context.url);
    const seq = Number(/seg-(\d+)/.exec(context.url)[1]);
    const data = content(seq).buffer;
    setTimeout(() => callbacks.onSuccess({ url: context.url, data }, this.stats, context, null), 1);
  }
  abort() {}
  destroy() {}
}
HTTP.requests = [];

// edgeFetch is a fake window.fetch for the edge's segments (content(seq)):
// it answers a Range request with 206 and those bytes, or with 200 and the
// whole segment when ignoreRange. Requests are recorded as {url, range}.
export function edgeFetch(opts = {}) {
  const f = async (url, init) => {
    const m = /seg-(\d+)\.m4s/.exec(url);
    if (!m) return { ok: false, status: 404 };
    const range = (init && init.headers && init.headers.Range) || '';
    f.requests.push({ url, range });
    const body = content(Number(m[1]));
    const r = /^bytes=(\d+)-(\d+)$/.exec(range);
    if (!r || opts.ignoreRange) return { ok: true, status: 200, arrayBuffer: async () => body.buffer };
    return { ok: true, status: 206, arrayBuffer: async () => body.slice(Number(r[1]), Number(r[2]) + 1).buffer };
  };
  f.requests = [];
  return f;
}
