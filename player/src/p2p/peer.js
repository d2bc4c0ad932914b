// One WebRTC link to a neighbor: an RTCPeerConnection with the ordered,
// reliable data channel "classmesh" created by the offerer. Downloads go
// through a Receiver (one in flight); uploads are served from the page's
// segment store (one in flight), with send-buffer back-pressure.
import { CHUNK, LABEL, Receiver, chunks, parseControl } from './channel.js';
import { limitRanges, rangesHas } from './ranges.js';

const CONNECT_TIMEOUT_MS = 15000;
const PENDING_WAIT_MS = 8000;
const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 * 1024;
const MAX_SDP = 60000;
const MAX_QUEUED_CANDIDATES = 64;

// PeerLink states.
export const CONNECTING = 'connecting';
export const OPEN = 'open';
export const CLOSED = 'closed';

// PeerLink talks to one remote peer. opts:
//   id          remote peer id
//   offerer     true if this side creates the channel and the offer
//   RTCPeerConnection, rtcConfig
//   signal(data)         send signalling to the remote peer via the tracker
//   maxSegment           largest segment accepted (bytes)
//   source               {get(seq), pending(seq), upload(), ranges()}
//   onOpen(link), onClose(link, reason), onHave(link), onUploaded(bytes)
export class PeerLink {
  constructor(opts) {
    this.opts = opts;
    this.id = opts.id;
    this.offerer = opts.offerer;
    this.state = CONNECTING;
    this.remoteRanges = [];
    this.receiver = new Receiver(opts.maxSegment);
    this.nextId = 1;
    this.tx = null; // {id, cancelled}
    this.dc = null;
    this.candidates = [];
    this.pc = new opts.RTCPeerConnection(opts.rtcConfig || { iceServers: [] });
    this.pc.onicecandidate = (ev) => {
      if (ev.candidate) this.opts.signal({ candidate: ev.candidate.toJSON ? ev.candidate.toJSON() : ev.candidate });
    };
    this.pc.onconnectionstatechange = () => {
      const s = this.pc.connectionState;
      if (s === 'failed' || s === 'closed') this.close('closed');
    };
    this.pc.ondatachannel = (ev) => {
      if (!this.offerer && !this.dc && ev.channel.label === LABEL) this.setup(ev.channel);
    };
    this.timer = setTimeout(() => {
      if (this.state === CONNECTING) this.close('timeout');
    }, CONNECT_TIMEOUT_MS);
  }

  // start creates the channel and the offer (offerer only).
  async start() {
    if (!this.offerer) return;
    try {
      this.setup(this.pc.createDataChannel(LABEL, { ordered: true }));
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      this.opts.signal({ sdp: { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp } });
    } catch (_) {
      this.close('closed');
    }
  }

  // handleSignal applies relayed signalling from the remote peer.
  async handleSignal(data) {
    if (this.state === CLOSED || !data || typeof data !== 'object') return;
    try {
      if (data.sdp && typeof data.sdp === 'object') await this.handleSDP(data.sdp);
      else if (data.candidate && typeof data.candidate === 'object') await this.handleCandidate(data.candidate);
    } catch (_) {
      this.close('closed');
    }
  }

  async handleSDP(sdp) {
    const type = sdp.type;
    if (typeof sdp.sdp !== 'string' || sdp.sdp.length > MAX_SDP) return;
    if (type === 'offer' && !this.offerer && !this.pc.remoteDescription) {
      await this.pc.setRemoteDescription({ type, sdp: sdp.sdp });
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      this.opts.signal({ sdp: { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp } });
    } else if (type === 'answer' && this.offerer && !this.pc.remoteDescription) {
      await this.pc.setRemoteDescription({ type, sdp: sdp.sdp });
    } else {
      return;
    }
    const queued = this.candidates;
    this.candidates = [];
    for (const c of queued) await this.pc.addIceCandidate(c).catch(() => {});
  }

  async handleCandidate(c) {
    if (typeof c.candidate !== 'string' || c.candidate.length > 2048) return;
    const init = { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment };
    if (!this.pc.remoteDescription) {
      if (this.candidates.length < MAX_QUEUED_CANDIDATES) this.candidates.push(init);
      return;
    }
    await this.pc.addIceCandidate(init).catch(() => {});
  }

  setup(dc) {
    this.dc = dc;
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = LOW_WATER;
    dc.onopen = () => {
      this.state = OPEN;
      clearTimeout(this.timer);
      this.sendHave(this.opts.source.ranges());
      if (this.opts.onOpen) this.opts.onOpen(this);
    };
    dc.onclose = () => this.close('closed');
    dc.onmessage = (ev) => this.handleFrame(ev.data);
  }

  handleFrame(data) {
    if (typeof data !== 'string') {
      if (!this.receiver.binary(data)) this.close('protocol');
      return;
    }
    const m = parseControl(data);
    if (!m) {
      this.close('protocol');
      return;
    }
    switch (m.t) {
      case 'have':
        this.remoteRanges = m.ranges;
        if (this.opts.onHave) this.opts.onHave(this);
        break;
      case 'get':
        this.serve(m.id, m.seq);
        break;
      case 'cancel':
        if (this.tx && this.tx.id === m.id) this.tx.cancelled = true;
        break;
      case 'data':
      case 'none':
        if (!this.receiver.control(m)) this.close('protocol');
        break;
      default:
        break;
    }
  }

  sendControl(m) {
    if (this.state !== OPEN || !this.dc || this.dc.readyState !== 'open') return false;
    try {
      this.dc.send(JSON.stringify(m));
      return true;
    } catch (_) {
      return false;
    }
  }

  // sendHave announces the full set of held segments.
  sendHave(ranges) {
    this.sendControl({ t: 'have', ranges: limitRanges(ranges, 400) });
  }

  // remoteHas reports whether the peer announced seq.
  remoteHas(seq) {
    return rangesHas(this.remoteRanges, seq);
  }

  // busy reports whether a download is in flight on this link.
  busy() {
    return this.receiver.busy();
  }

  // download asks for seq (expected size, or 0 when unknown). It returns
  // {promise, cancel}; promise resolves with {ok:true, data} or
  // {ok:false, reason} (reason 'none', 'size', 'closed', 'cancel', 'busy');
  // a cancelled transfer carries the bytes received so far (partial, see
  // Receiver.cancel).
  download(seq, expected, onProgress) {
    if (this.state !== OPEN || this.receiver.busy()) {
      return { promise: Promise.resolve({ ok: false, reason: this.state === OPEN ? 'busy' : 'closed' }), cancel() {} };
    }
    const id = this.nextId++;
    let resolve;
    const promise = new Promise((r) => (resolve = r));
    this.receiver.begin(id, seq, expected, resolve, onProgress);
    if (!this.sendControl({ t: 'get', id, seq })) this.receiver.cancel('closed');
    const cancel = () => {
      if (this.receiver.rx && this.receiver.rx.id === id) {
        this.sendControl({ t: 'cancel', id });
        this.receiver.cancel('cancel');
      }
    };
    return { promise, cancel };
  }

  // serve answers a "get": the segment from the store (waiting a little for
  // one this page is downloading right now), or "none".
  async serve(id, seq) {
    const source = this.opts.source;
    if (this.tx || !source.upload()) {
      this.sendControl({ t: 'none', id });
      return;
    }
    const tx = { id, cancelled: false };
    this.tx = tx;
    try {
      let data = source.get(seq);
      if (!data && source.pending(seq)) {
        await Promise.race([source.pending(seq), new Promise((r) => setTimeout(r, PENDING_WAIT_MS))]).catch(() => {});
        data = source.get(seq);
      }
      if (tx.cancelled) return;
      if (!data) {
        this.sendControl({ t: 'none', id });
        return;
      }
      await this.sendSegment(tx, seq, data);
    } finally {
      if (this.tx === tx) this.tx = null;
    }
  }

  async sendSegment(tx, seq, data) {
    if (!this.sendControl({ t: 'data', id: tx.id, seq, size: data.byteLength })) return;
    let sent = 0;
    for (const chunk of chunks(data)) {
      if (tx.cancelled || this.state !== OPEN) break;
      if (this.dc.bufferedAmount > HIGH_WATER) await this.drained();
      if (tx.cancelled || this.state !== OPEN) break;
      try {
        this.dc.send(chunk);
      } catch (_) {
        break;
      }
      sent += chunk.byteLength;
    }
    if (sent > 0 && this.opts.onUploaded) this.opts.onUploaded(sent, seq);
  }

  drained() {
    return new Promise((resolve) => {
      const done = () => {
        clearInterval(poll);
        this.dc.removeEventListener('bufferedamountlow', done);
        resolve();
      };
      // Polling as well: bufferedamountlow is not fired once the channel closes.
      const poll = setInterval(() => {
        if (this.state !== OPEN || this.dc.bufferedAmount <= LOW_WATER) done();
      }, 250);
      this.dc.addEventListener('bufferedamountlow', done);
    });
  }

  // close tears the link down; reason is reported to onClose once.
  close(reason) {
    if (this.state === CLOSED) return;
    const wasOpen = this.state === OPEN;
    this.state = CLOSED;
    clearTimeout(this.timer);
    this.receiver.cancel('closed');
    if (this.tx) this.tx.cancelled = true;
    try {
      if (this.dc) this.dc.close();
      this.pc.close();
    } catch (_) {
      // Already closed.
    }
    if (this.opts.onClose) this.opts.onClose(this, reason || 'closed', wasOpen);
  }
}

export { CHUNK };
