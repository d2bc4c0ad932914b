// The edge's segment hashes for one swarm: from tracker messages (peers,
// hash, fetch) and from hashes.json beside the media playlist. Only these
// hashes are trusted; nothing a peer says is.
import { isSeq } from './ranges.js';
import { isSHA256 } from './verify.js';

// Limits for hashes.json (the edge keeps at most 20 000 segments per swarm).
export const MAX_LIST_BYTES = 4 << 20;
export const MAX_LIST_SEGMENTS = 20000;
// MAX_SEGMENT_BYTES bounds any segment size taken from the edge or a peer.
export const MAX_SEGMENT_BYTES = 64 << 20;
// Most entries kept per swarm (the lowest seq is forgotten first).
const MAX_KEPT = 20000;

// parseHashList validates a hashes.json body for swarm; it returns
// [{seq, sha256, size}] or null when the document is malformed or for
// another swarm.
export function parseHashList(text, swarm) {
  if (typeof text !== 'string' || text.length > MAX_LIST_BYTES) return null;
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (_) {
    return null;
  }
  if (!doc || typeof doc !== 'object' || doc.v !== 1 || doc.swarm !== swarm || !Array.isArray(doc.segments)) return null;
  if (doc.segments.length > MAX_LIST_SEGMENTS) return null;
  const out = [];
  for (const s of doc.segments) {
    if (!s || !isSeq(s.seq) || !isSHA256(s.sha256) || !validSize(s.size)) return null;
    out.push({ seq: s.seq, sha256: s.sha256, size: s.size });
  }
  return out;
}

function validSize(n) {
  return Number.isSafeInteger(n) && n > 0 && n <= MAX_SEGMENT_BYTES;
}

// HashTable holds {sha256, size} by seq for one swarm.
export class HashTable {
  constructor() {
    this.map = new Map();
  }

  // note records a hash from the edge; invalid values are ignored.
  note(seq, sha256, size) {
    if (!isSeq(seq) || !isSHA256(sha256) || !validSize(size)) return false;
    this.map.set(seq, { sha256, size });
    if (this.map.size > MAX_KEPT) {
      let low = Infinity;
      for (const k of this.map.keys()) if (k < low) low = k;
      this.map.delete(low);
    }
    return true;
  }

  get(seq) {
    return this.map.get(seq) || null;
  }
}

// HashListLoader fetches hashes.json at most once per interval.
export class HashListLoader {
  // opts: {fetch, swarm, table, intervalMs, timeoutMs}
  constructor(opts) {
    this.opts = opts;
    this.last = -Infinity;
    this.inflight = null;
  }

  // load refreshes the table from url unless it was fetched recently; it
  // resolves when done (never rejects).
  load(url) {
    if (this.inflight) return this.inflight;
    if (Date.now() - this.last < (this.opts.intervalMs || 5000)) return Promise.resolve();
    this.last = Date.now();
    this.inflight = this.fetchList(url).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  async fetchList(url) {
    const ctl = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = setTimeout(() => ctl && ctl.abort(), this.opts.timeoutMs || 3000);
    try {
      const res = await this.opts.fetch(url, { credentials: 'same-origin', signal: ctl ? ctl.signal : undefined });
      if (!res.ok) return;
      const list = parseHashList(await res.text(), this.opts.swarm);
      if (list) for (const s of list) this.opts.table.note(s.seq, s.sha256, s.size);
    } catch (_) {
      // No list: segments without a known hash come over HTTP.
    } finally {
      clearTimeout(timer);
    }
  }
}
