// One swarm as seen by this page: the tracker socket, the WebRTC links to
// neighbors, the edge's hashes and the segments in flight. Loading decisions
// live in fetch.js; this file keeps membership and links.
import { HashListLoader, HashTable, MAX_SEGMENT_BYTES } from './hashes.js';
import { CLOSED, OPEN, PeerLink } from './peer.js';
import { limitRanges, toRanges } from './ranges.js';
import { shouldOffer } from './schedule.js';
import { DEFAULT_TRACKER_CONFIG, effectiveConfig, parseMode, stricter } from './settings.js';
import { TrackerClient } from './tracker.js';
import { hashesURL, segmentURL } from './swarm.js';

const PEER_ID = /^[0-9a-f]{16}$/;
const HAVE_DEBOUNCE_MS = 150;
const PREFETCH_TIMEOUT_MS = 15000;
const MAX_EARLY_REPORTS = 32;

// SwarmSession is created by the Engine for each swarm a page loads.
export class SwarmSession {
  // engine provides: store, stats, env {WebSocket, RTCPeerConnection, fetch},
  // trackerURL, mode(), uploadAllowed(), canVerify(), overrides, rtcConfig,
  // changed().
  constructor(engine, swarm, url) {
    this.engine = engine;
    this.swarm = swarm;
    this.url = url;
    this.myId = '';
    this.group = '';
    this.policy = 'on';
    this.joined = false;
    this.cfg = effectiveConfig(DEFAULT_TRACKER_CONFIG, engine.overrides);
    this.links = new Map();
    this.neighbors = [];
    this.dropped = new Set();
    this.hashes = new HashTable();
    this.hashList = new HashListLoader({ fetch: engine.env.fetch, swarm, table: this.hashes });
    this.pending = new Map(); // seq → Promise settled when the segment is held or failed
    this.prefetched = new Set(); // live segments taken over HTTP before hls.js asked
    this.early = []; // reports made while not joined
    this.haveTimer = null;
    this.lastUse = Date.now();
    this.tracker = new TrackerClient({
      url: engine.trackerURL,
      swarm,
      upload: this.uploadWanted(),
      WebSocket: engine.env.WebSocket,
      onMessage: (m) => this.onMessage(m),
      onClose: () => this.onTrackerClose(),
    });
  }

  start() {
    this.tracker.start();
  }

  // mode is the user's mode limited by the site policy from the tracker.
  mode() {
    return stricter(this.engine.mode(), this.policy);
  }

  uploadWanted() {
    return this.engine.mode() === 'on' && this.engine.uploadAllowed();
  }

  canUpload() {
    return this.joined && this.mode() === 'on' && this.engine.uploadAllowed();
  }

  canDownload() {
    return this.joined && this.mode() !== 'off' && this.engine.canVerify() && Boolean(this.engine.env.RTCPeerConnection);
  }

  onMessage(m) {
    switch (m.t) {
      case 'welcome':
        this.onWelcome(m);
        break;
      case 'config':
        this.cfg = effectiveConfig(m.config, this.engine.overrides);
        break;
      case 'peers':
      case 'hash':
        this.hashes.note(m.seq, m.sha256, m.size);
        break;
      case 'fetch':
        this.hashes.note(m.seq, m.sha256, m.size);
        this.prefetch(m.seq);
        break;
      case 'neighbors':
        if (Array.isArray(m.peers)) this.updateNeighbors(m.peers);
        break;
      case 'signal':
        if (PEER_ID.test(m.from) && m.data && typeof m.data === 'object') this.onSignal(m.from, m.data);
        break;
      case 'drop':
        if (typeof m.peer === 'string') this.dropPeer(m.peer, m.reason === 'bad_segment');
        break;
      default:
        break;
    }
    this.engine.changed();
  }

  onWelcome(m) {
    this.closeLinks();
    this.myId = typeof m.peer === 'string' ? m.peer : '';
    this.group = typeof m.group === 'string' ? m.group : '';
    this.policy = parseMode(m.policy) || 'on';
    this.cfg = effectiveConfig(m.config, this.engine.overrides);
    this.joined = true;
    for (const r of this.early.splice(0)) this.tracker.send(r);
    const ranges = this.heldRanges();
    if (ranges.length && this.canUpload()) this.tracker.send({ t: 'have', ranges: limitRanges(ranges) });
  }

  onTrackerClose() {
    this.joined = false;
    this.closeLinks();
    this.engine.changed();
  }

  heldRanges() {
    return toRanges(this.engine.store.seqs(this.swarm));
  }

  // updateNeighbors opens links to new neighbors (offering when this side
  // should) and closes links this side opened to peers no longer listed.
  updateNeighbors(ids) {
    this.engine.log(this.swarm, 'neighbors', ids);
    if (!this.canDownload() && !this.canUpload()) return;
    const want = ids.filter((id) => PEER_ID.test(id) && id !== this.myId && !this.dropped.has(id)).slice(0, this.cfg.maxPeers);
    this.neighbors = want;
    for (const [id, link] of this.links) {
      if (link.fromNeighbors && !want.includes(id)) link.close('left');
    }
    const downloadOnly = this.mode() === 'download-only';
    for (const id of want) {
      if (this.links.has(id)) continue;
      const link = this.newLink(id, shouldOffer(this.myId, id, downloadOnly));
      link.fromNeighbors = true;
      link.start();
    }
  }

  onSignal(from, data) {
    if (this.dropped.has(from)) return;
    let link = this.links.get(from);
    const offer = data.sdp && data.sdp.type === 'offer';
    if (offer && link && link.offerer) {
      if (link.state === OPEN || this.myId < from) return; // glare: the lower id's offer wins
      link.close('glare');
      link = null;
    }
    if (!link) {
      if (!offer || this.links.size >= 2 * Math.max(1, this.cfg.maxPeers)) return;
      if (!this.canDownload() && !this.canUpload()) return;
      link = this.newLink(from, false);
      link.fromNeighbors = this.neighbors.includes(from);
    }
    link.handleSignal(data);
  }

  newLink(id, offerer) {
    const link = new PeerLink({
      id,
      offerer,
      RTCPeerConnection: this.engine.env.RTCPeerConnection,
      rtcConfig: this.engine.rtcConfig,
      maxSegment: MAX_SEGMENT_BYTES,
      signal: (data) => this.tracker.send({ t: 'signal', to: id, data }),
      source: {
        get: (seq) => this.engine.store.get(this.swarm, seq),
        pending: (seq) => this.pending.get(seq) || null,
        upload: () => this.canUpload(),
        ranges: () => (this.canUpload() ? this.heldRanges() : []),
      },
      onOpen: () => {
        this.engine.log(this.swarm, 'open', id);
        this.engine.changed();
      },
      onClose: (l, reason) => {
        this.engine.log(this.swarm, 'close', id, reason);
        if (this.links.get(l.id) === l) this.links.delete(l.id);
        this.engine.changed();
      },
      onUploaded: (bytes) => {
        this.engine.stats.bytesUploaded += bytes;
        this.engine.changed();
      },
    });
    this.links.set(id, link);
    return link;
  }

  // dropPeer closes the link to a peer and never talks to it again.
  dropPeer(id, bad) {
    if (bad) this.dropped.add(id);
    const link = this.links.get(id);
    if (link) link.close(bad ? 'dropped' : 'left');
  }

  closeLinks() {
    for (const link of Array.from(this.links.values())) link.close('closed');
    this.links.clear();
    this.neighbors = [];
  }

  openLinks() {
    let n = 0;
    for (const link of this.links.values()) if (link.state === OPEN) n++;
    return n;
  }

  linkState(id) {
    const link = this.links.get(id);
    if (!link || link.state === CLOSED) return '';
    if (link.state !== OPEN) return 'connecting';
    return link.busy() ? 'busy' : 'idle';
  }

  // expectedHash returns the edge's {sha256, size} for seq, fetching
  // hashes.json once when the tracker did not say.
  async expectedHash(seq) {
    const known = this.hashes.get(seq);
    if (known) return known;
    await this.hashList.load(hashesURL(this.url));
    return this.hashes.get(seq);
  }

  // held records a segment this page now holds in full (from HTTP or a
  // verified peer): store it, tell the tracker and the neighbors.
  held(seq, data) {
    if (!this.engine.store.put(this.swarm, seq, data)) return;
    if (this.canUpload()) this.tracker.send({ t: 'have', ranges: [[seq, seq]] });
    this.scheduleHave();
  }

  // lost is called by the store when it evicted seq.
  lost(seq) {
    if (this.canUpload()) this.tracker.send({ t: 'lost', ranges: [[seq, seq]] });
    this.scheduleHave();
  }

  scheduleHave() {
    if (this.haveTimer) return;
    this.haveTimer = setTimeout(() => {
      this.haveTimer = null;
      const ranges = this.canUpload() ? this.heldRanges() : [];
      for (const link of this.links.values()) link.sendHave(ranges);
    }, HAVE_DEBOUNCE_MS);
  }

  // report tells the tracker how a segment was obtained (or failed).
  // Reports made while not joined (startup segments before the welcome) are
  // kept and sent on the next welcome, so the edge's offload figures count them.
  report(r) {
    const m = { t: 'report', seq: r.seq, source: r.source, bytes: Math.max(0, Math.floor(r.bytes || 0)), ok: r.ok };
    if (r.source === 'peer') m.peer = r.peer;
    if (!r.ok) m.reason = r.reason;
    if (this.joined) this.tracker.send(m);
    else if (this.early.length < MAX_EARLY_REPORTS) this.early.push(m);
  }

  // track marks seq as in flight until promise settles.
  track(seq, promise) {
    const p = promise.then(
      () => undefined,
      () => undefined,
    );
    this.pending.set(seq, p);
    p.then(() => {
      if (this.pending.get(seq) === p) this.pending.delete(seq);
    });
    return promise;
  }

  // prefetch takes a live segment over HTTP at the tracker's request so that
  // neighbors can have it from this page.
  prefetch(seq) {
    if (!this.canUpload() || this.engine.store.has(this.swarm, seq) || this.pending.has(seq)) return;
    const url = segmentURL(this.url, seq);
    const ctl = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = setTimeout(() => ctl && ctl.abort(), PREFETCH_TIMEOUT_MS);
    const job = this.engine.env
      .fetch(url, { credentials: 'same-origin', signal: ctl ? ctl.signal : undefined })
      .then((res) => (res.ok ? res.arrayBuffer() : null))
      .finally(() => clearTimeout(timer))
      .then((data) => {
        if (!data || data.byteLength === 0) return;
        this.held(seq, data);
        this.prefetched.add(seq);
        if (this.prefetched.size > 64) this.prefetched.delete(this.prefetched.values().next().value);
      })
      .catch(() => {});
    this.track(seq, job);
  }

  close() {
    clearTimeout(this.haveTimer);
    this.closeLinks();
    this.tracker.close();
    this.joined = false;
  }
}
