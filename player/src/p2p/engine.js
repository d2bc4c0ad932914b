// Engine: the page-wide P2P state behind the hls.js fragment loader. It owns
// the segment store (memory cap by device class), one SwarmSession per swarm
// the page loads, and the statistics object the player page shows and tests
// read (window.classmeshStats).
import { SegmentJob } from './fetch.js';
import { SwarmSession } from './session.js';
import { isMetered, memoryCap, parseMode, userMode } from './settings.js';
import { SegmentStore } from './store.js';
import { segmentSeq, swarmFromURL, trackerURL } from './swarm.js';

const MAX_SESSIONS = 8;

// newStats is the statistics object (one per engine, updated in place).
export function newStats() {
  return {
    mode: 'off',
    upload: false,
    policy: '',
    swarms: [],
    peerIds: [],
    trackerConnected: false,
    peersConnected: 0,
    bytesFromPeers: 0,
    bytesFromHTTP: 0,
    bytesUploaded: 0,
    segmentsFromPeers: 0,
    segmentsFromHTTP: 0,
    segmentsFromCache: 0,
    peerTails: 0,
    hashFailures: 0,
    badPeers: 0,
    peerFailures: 0,
    p2pPercent: 0,
    httpPercent: 0,
    heldBytes: 0,
    memoryCap: 0,
  };
}

function bufferAhead(video) {
  if (!video) return 0;
  const t = video.currentTime;
  const b = video.buffered;
  for (let i = 0; i < b.length; i++) {
    if (t >= b.start(i) - 0.25 && t <= b.end(i)) return Math.max(0, b.end(i) - t);
  }
  return 0;
}

// Engine options (all optional):
//   mode          'on' | 'download-only' | 'off' (default on; metered → download-only)
//   memoryBytes   store cap (default by navigator.deviceMemory)
//   httpMarginS, windowS [lo,hi], maxPeers   override the tracker's config
//   iceServers    RTCIceServer list (default none: host candidates only)
//   trackerURL    default ws(s)://{page host}/p2p/ws (/t/{token}/p2p/ws with token)
//   token         playback token of a signed link (private lectures)
//   debug         log decisions to the console (console.debug, "[p2p] …")
//   env           {WebSocket, RTCPeerConnection, fetch, subtle, navigator, location}
export class Engine {
  constructor(options) {
    const o = options || {};
    const g = globalThis;
    this.env = Object.assign(
      {
        WebSocket: g.WebSocket,
        RTCPeerConnection: g.RTCPeerConnection,
        fetch: g.fetch ? g.fetch.bind(g) : null,
        subtle: g.crypto && g.crypto.subtle,
        navigator: g.navigator,
        location: g.location,
      },
      o.env || {},
    );
    const nav = this.env.navigator || {};
    this.connection = nav.connection || null;
    this.requested = parseMode(o.mode) || 'on';
    this.overrides = { httpMarginS: o.httpMarginS, windowS: o.windowS, maxPeers: o.maxPeers };
    this.rtcConfig = { iceServers: Array.isArray(o.iceServers) ? o.iceServers : [] };
    this.trackerURL = o.trackerURL || (this.env.location ? trackerURL(this.env.location, o.token) : '');
    this.video = null;
    this.stats = newStats();
    this.stats.memoryCap = o.memoryBytes > 0 ? o.memoryBytes : memoryCap(nav.deviceMemory);
    this.store = new SegmentStore(this.stats.memoryCap, (swarm, seq) => {
      const s = this.sessions.get(swarm);
      if (s) s.lost(seq);
    });
    this.sessions = new Map();
    this.listeners = new Set();
    this.closed = false;
    this.debug = Boolean(o.debug);
    this.changed();
  }

  // log writes a debug line when the debug option is on.
  log(...args) {
    if (!this.debug) return;
    console.debug(['[p2p]', ...args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)))].join(' '));
  }

  // attach gives the engine the <video> element (buffer and playhead).
  attach(video) {
    this.video = video;
  }

  // mode is the user's mode now (metered connections only download).
  mode() {
    if (!this.env.WebSocket || !this.trackerURL) return 'off';
    return userMode(this.requested, this.connection);
  }

  uploadAllowed() {
    return !isMetered(this.connection) && Boolean(this.env.RTCPeerConnection);
  }

  canVerify() {
    return Boolean(this.env.subtle);
  }

  // media is the view of the video element a SegmentJob needs.
  media() {
    return {
      bufferAhead: () => bufferAhead(this.video),
      currentTime: () => (this.video ? this.video.currentTime : 0),
      playing: () => Boolean(this.video && !this.video.paused && !this.video.ended),
    };
  }

  // job returns a SegmentJob for a media segment of a swarm, or null when
  // the request is not P2P material (init segments, parts, byte ranges,
  // unknown URLs, P2P off).
  job(context, aborted) {
    if (this.closed || this.mode() === 'off' || !context || context.part) return null;
    const frag = context.frag;
    if (!frag || typeof frag.sn !== 'number' || context.rangeEnd) return null;
    const seq = segmentSeq(context.url);
    const swarm = seq >= 0 ? swarmFromURL(context.url) : '';
    if (!swarm) return null;
    return new SegmentJob(this.session(swarm, context.url), seq, frag, this.media(), aborted, context.url);
  }

  // prepare joins the swarm of a media playlist URL ahead of its first
  // segment (hls.js is loading that level), so that the tracker's welcome
  // and the neighbors' channels are there when segments are wanted.
  prepare(url) {
    if (this.closed || this.mode() === 'off') return;
    const swarm = swarmFromURL(url);
    if (swarm) this.session(swarm, url);
  }

  session(swarm, url) {
    let s = this.sessions.get(swarm);
    if (s) {
      s.url = url;
      return s;
    }
    if (this.sessions.size >= MAX_SESSIONS) this.evictSession();
    s = new SwarmSession(this, swarm, url);
    this.sessions.set(swarm, s);
    s.start();
    this.changed();
    return s;
  }

  evictSession() {
    let oldest = null;
    for (const s of this.sessions.values()) if (!oldest || s.lastUse < oldest.lastUse) oldest = s;
    if (!oldest) return;
    oldest.close();
    this.store.dropSwarm(oldest.swarm);
    this.sessions.delete(oldest.swarm);
  }

  // httpBytes counts HTTP segment bytes that bypassed P2P (no job).
  httpBytes(n) {
    this.stats.bytesFromHTTP += n;
    this.stats.segmentsFromHTTP++;
    this.changed();
  }

  // onChange registers fn(stats), called after every change.
  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // changed refreshes the derived statistics.
  changed() {
    const st = this.stats;
    const sessions = Array.from((this.sessions || new Map()).values());
    st.mode = this.mode();
    st.upload = st.mode === 'on' && this.uploadAllowed();
    st.swarms = sessions.map((s) => s.swarm);
    st.peerIds = sessions.map((s) => s.myId).filter(Boolean);
    st.policy = sessions.length ? sessions[0].policy : '';
    st.trackerConnected = sessions.some((s) => s.joined);
    st.peersConnected = sessions.reduce((n, s) => n + s.openLinks(), 0);
    const total = st.bytesFromPeers + st.bytesFromHTTP;
    st.p2pPercent = total ? Math.round((1000 * st.bytesFromPeers) / total) / 10 : 0;
    st.httpPercent = total ? Math.round((1000 * st.bytesFromHTTP) / total) / 10 : 0;
    st.heldBytes = this.store ? this.store.bytes : 0;
    for (const fn of this.listeners || []) fn(st);
  }

  // destroy leaves every swarm (bye) and closes every link.
  destroy() {
    this.closed = true;
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
    this.changed();
  }
}
