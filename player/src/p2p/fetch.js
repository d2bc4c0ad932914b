// SegmentJob: how one media segment is obtained for hls.js. It is served
// from the page's store when held, else from peers when the schedule allows
// (verified against the edge's SHA-256 before use), else the loader takes it
// over HTTP and hands the bytes back (httpDone) to be held and announced.
// A late peer's bytes are kept and only the rest is taken over HTTP with a
// Range request (finishTail).
import { HTTP, WAIT, abandon, orderPeers, plan, stalled } from './schedule.js';
import { verifySegment } from './verify.js';

const WANT_TIMEOUT_MS = 1500;
const STALL_MS = 4000;
const POLL_MS = 200;
const ROUNDS = 2;
const ROUND_PAUSE_MS = 500;
// A late transfer is finished with a Range request when at least this much
// came from the peer; less is not worth a second request.
export const MIN_TAIL_PREFIX = 16384;
const TAIL_TIMEOUT_MS = 15000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class SegmentJob {
  // media: {bufferAhead(), currentTime(), playing()}; frag: hls.js Fragment
  // (start, duration); aborted(): true once hls.js aborted the load; url:
  // the segment's URL (for a Range request finishing a late transfer).
  constructor(session, seq, frag, media, aborted, url) {
    this.session = session;
    this.engine = session.engine;
    this.seq = seq;
    this.url = url || '';
    this.httpNow = false; // a late transfer was finished or given up: no more peers
    this.frag = frag;
    this.media = media;
    this.aborted = aborted;
    this.settle = null;
  }

  untilPlay() {
    return (this.frag && Number.isFinite(this.frag.start) ? this.frag.start : 0) - this.media.currentTime();
  }

  // run resolves with {data, source, peer, timing} when the bytes are here
  // (source 'peer', 'http' for a live prefetch, 'cache' for a replay), or
  // null when the loader must use HTTP.
  async run() {
    const s = this.session;
    s.lastUse = Date.now();
    if (s.pending.has(this.seq)) await s.pending.get(this.seq);
    const held = this.engine.store.get(s.swarm, this.seq);
    if (held) {
      const source = s.prefetched.delete(this.seq) ? 'http' : 'cache';
      this.account(source, '', held.byteLength);
      return { data: held.slice(0), source, peer: '', timing: null };
    }
    s.track(this.seq, new Promise((resolve) => (this.settle = resolve)));
    for (;;) {
      if (this.aborted()) return null;
      const d = plan(
        { joined: s.joined, download: s.canDownload(), bufferAhead: this.media.bufferAhead(), untilPlay: this.untilPlay() },
        s.cfg,
      );
      if (d === HTTP) {
        this.engine.log(s.swarm, this.seq, 'http', { joined: s.joined, buffer: this.media.bufferAhead().toFixed(1), until: this.untilPlay().toFixed(1) });
        return null;
      }
      if (d !== WAIT) break;
      await sleep(POLL_MS);
    }
    const got = await this.fromPeers();
    if (!got) return null;
    s.held(this.seq, got.data);
    if (got.tail) this.accountTail(got.peer, got.data.byteLength - got.tail, got.tail);
    else this.account('peer', got.peer, got.data.byteLength);
    this.done();
    return { data: got.data.slice(0), source: 'peer', peer: got.peer, timing: got.timing, tail: got.tail || 0 };
  }

  // fromPeers asks the tracker whom to ask and tries those peers in order,
  // for up to ROUNDS rounds, until the buffer runs low.
  async fromPeers() {
    const s = this.session;
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) await sleep(ROUND_PAUSE_MS);
      if (this.aborted() || this.low() || this.httpNow) return null;
      const resp = await s.tracker.want(this.seq, WANT_TIMEOUT_MS);
      this.engine.log(s.swarm, this.seq, 'want', resp && { fetch: resp.fetch, peers: resp.peers, hash: Boolean(resp.sha256) });
      if (!resp || resp.fetch || !Array.isArray(resp.peers) || resp.peers.length === 0) return null;
      s.hashes.note(this.seq, resp.sha256, resp.size);
      const expected = await s.expectedHash(this.seq);
      if (!expected) return null;
      const got = await this.tryPeers(resp.peers, expected);
      if (got) return got;
    }
    return null;
  }

  low() {
    return abandon(this.media.bufferAhead(), this.media.playing(), this.session.cfg);
  }

  async tryPeers(ids, expected) {
    const s = this.session;
    const tried = new Set();
    let waitingSince = 0;
    for (;;) {
      if (this.aborted() || this.low()) return null;
      const cands = orderPeers(
        ids.filter((id) => !tried.has(id) && !s.dropped.has(id)),
        (id) => s.linkState(id),
      );
      if (cands.length === 0) return null;
      const id = cands[0];
      if (s.linkState(id) !== 'idle') {
        // Every candidate is connecting or busy: wait a little for one.
        if (!waitingSince) waitingSince = now();
        if (stalled(now(), waitingSince, STALL_MS)) return null;
        await sleep(POLL_MS);
        continue;
      }
      waitingSince = 0;
      const r = await this.tryPeer(s.links.get(id), expected);
      if (r.ok) return r;
      tried.add(id);
      if (r.reason === 'abort' || this.httpNow) return null;
    }
  }

  // tryPeer downloads from one peer, abandoning it when hls.js aborts, the
  // buffer falls below the margin or the transfer stalls; failures are
  // reported, and a peer that sent bad bytes is dropped. A late transfer
  // that brought at least MIN_TAIL_PREFIX bytes is finished over HTTP
  // (finishTail) instead of trying another peer.
  async tryPeer(link, expected) {
    const start = now();
    let last = start;
    let first = 0;
    const t = link.download(this.seq, expected.size, () => {
      last = now();
      if (!first) first = last;
    });
    let why = '';
    const watch = setInterval(() => {
      if (this.aborted()) why = 'abort';
      else if (this.low() || stalled(now(), last, STALL_MS)) why = 'timeout';
      if (why) t.cancel();
    }, POLL_MS);
    const r = await t.promise;
    clearInterval(watch);
    let reason = r.ok ? '' : r.reason;
    this.engine.log(this.session.swarm, this.seq, 'peer', link.id, r.ok ? `ok ${r.data.byteLength} B in ${Math.round(now() - start)} ms` : r.reason, why);
    if (r.ok) {
      const v = await verifySegment(r.data, expected);
      if (v.ok) return { ok: true, data: r.data, peer: link.id, timing: { start, first: first || start, end: now() } };
      reason = v.reason;
    }
    if (reason === 'cancel') reason = why || 'timeout';
    const part = r.partial;
    if (reason === 'timeout' && part && part.got >= MIN_TAIL_PREFIX && part.got < expected.size && this.url) {
      this.httpNow = true;
      const tail = await this.finishTail(link, part, expected);
      if (tail) return { ok: true, data: part.buf, peer: link.id, tail, timing: { start, first: first || start, end: now() } };
      return { ok: false, reason }; // reported; the whole segment over HTTP now
    }
    if (reason === 'none' || reason === 'busy' || reason === 'abort') return { ok: false, reason };
    this.peerFailed(link, reason === 'protocol' ? 'closed' : reason);
    return { ok: false, reason };
  }

  // finishTail fetches the bytes a late peer did not send (Range, which must
  // be answered 206 with exactly those bytes) into part.buf and verifies
  // the whole against the edge's hash. It returns the number of HTTP bytes,
  // or 0 when the segment must be taken over HTTP in full: the range
  // failed (the peer is reported as a timeout), or the whole did not verify
  // (the edge's part is trusted, so the peer sent bad bytes: reported,
  // dropped).
  async finishTail(link, part, expected) {
    const off = part.got;
    const tail = await this.getRange(off, expected.size);
    this.engine.log(this.session.swarm, this.seq, 'tail', link.id, off, tail ? `${tail.byteLength} B` : 'failed');
    if (!tail) {
      this.peerFailed(link, 'timeout');
      return 0;
    }
    new Uint8Array(part.buf).set(new Uint8Array(tail), off);
    const v = await verifySegment(part.buf, expected);
    if (!v.ok) {
      this.peerFailed(link, v.reason);
      return 0;
    }
    return tail.byteLength;
  }

  // getRange takes bytes off…size−1 of the segment over HTTP; null unless
  // the edge answers 206 with exactly those bytes.
  async getRange(off, size) {
    const fetch = this.engine.env.fetch;
    if (!fetch) return null;
    const ctl = typeof AbortController === 'function' ? new AbortController() : null;
    const stop = () => ctl && ctl.abort();
    const timer = setTimeout(stop, TAIL_TIMEOUT_MS);
    const watch = setInterval(() => this.aborted() && stop(), POLL_MS);
    try {
      const res = await fetch(this.url, {
        credentials: 'same-origin',
        headers: { Range: `bytes=${off}-${size - 1}` },
        signal: ctl ? ctl.signal : undefined,
      });
      if (res.status !== 206) {
        stop(); // an edge ignoring the range would send the whole segment
        return null;
      }
      const data = await res.arrayBuffer();
      return data.byteLength === size - off ? data : null;
    } catch (_) {
      return null;
    } finally {
      clearTimeout(timer);
      clearInterval(watch);
    }
  }

  peerFailed(link, reason) {
    const s = this.session;
    const stats = this.engine.stats;
    const bad = reason === 'hash' || reason === 'size';
    // bytes is what was played from the source: nothing, for a failure.
    s.report({ seq: this.seq, source: 'peer', peer: link.id, bytes: 0, ok: false, reason: bad ? reason : reason === 'timeout' ? 'timeout' : 'closed' });
    if (reason === 'hash') stats.hashFailures++;
    if (bad) {
      stats.badPeers++;
      s.dropPeer(link.id, true);
    } else {
      stats.peerFailures++;
    }
    this.engine.changed();
  }

  // httpDone takes the bytes the loader got over HTTP (a copy it may keep).
  httpDone(data) {
    this.session.held(this.seq, data);
    this.account('http', '', data.byteLength);
    this.done();
  }

  // httpFailed reports a failed HTTP load (counted by the tracker only).
  httpFailed(timeout) {
    this.session.report({ seq: this.seq, source: 'http', bytes: 0, ok: false, reason: timeout ? 'timeout' : 'closed' });
    this.done();
  }

  // accountTail counts a segment a late peer had partly sent and HTTP
  // finished: the peer's bytes are reported as a timeout carrying them and
  // the range as an HTTP report (PROTOCOL.md, "Additions").
  accountTail(peer, peerBytes, httpBytes) {
    const stats = this.engine.stats;
    stats.bytesFromPeers += peerBytes;
    stats.bytesFromHTTP += httpBytes;
    stats.segmentsFromPeers++;
    stats.peerTails++;
    stats.peerFailures++;
    this.session.report({ seq: this.seq, source: 'peer', peer, bytes: peerBytes, ok: false, reason: 'timeout' });
    this.session.report({ seq: this.seq, source: 'http', bytes: httpBytes, ok: true });
    this.engine.changed();
  }

  // done releases uploads waiting for this segment.
  done() {
    if (this.settle) this.settle();
    this.settle = null;
  }

  account(source, peer, bytes) {
    const stats = this.engine.stats;
    if (source === 'peer') {
      stats.bytesFromPeers += bytes;
      stats.segmentsFromPeers++;
    } else if (source === 'http') {
      stats.bytesFromHTTP += bytes;
      stats.segmentsFromHTTP++;
    } else {
      stats.segmentsFromCache++;
      return;
    }
    this.session.report({ seq: this.seq, source, peer, bytes, ok: true });
    this.engine.changed();
  }
}
