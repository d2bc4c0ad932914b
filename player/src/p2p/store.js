// In-memory segment store shared by every swarm of a page, capped in bytes.
// When full, the oldest segments are evicted and reported to the caller (who
// tells the tracker and the neighbors with "lost"/"have").

// SegmentStore keeps {swarm, seq} → bytes (ArrayBuffer), oldest first.
export class SegmentStore {
  // cap is the byte budget; onEvict(swarm, seq) is called for each eviction.
  constructor(cap, onEvict) {
    this.cap = cap;
    this.onEvict = onEvict || (() => {});
    this.items = new Map(); // key → {swarm, seq, data}
    this.bytes = 0;
  }

  static key(swarm, seq) {
    return `${swarm}#${seq}`;
  }

  has(swarm, seq) {
    return this.items.has(SegmentStore.key(swarm, seq));
  }

  // get returns the stored ArrayBuffer (do not transfer or modify it) or null.
  get(swarm, seq) {
    const it = this.items.get(SegmentStore.key(swarm, seq));
    return it ? it.data : null;
  }

  // put stores a segment; it returns false when the segment alone is larger
  // than the cap (then it is not kept).
  put(swarm, seq, data) {
    const key = SegmentStore.key(swarm, seq);
    if (data.byteLength > this.cap) return false;
    const old = this.items.get(key);
    if (old) {
      this.items.delete(key);
      this.bytes -= old.data.byteLength;
    }
    this.items.set(key, { swarm, seq, data });
    this.bytes += data.byteLength;
    this.evict(key);
    return true;
  }

  // evict drops the oldest segments (never keep) until the store fits.
  evict(keep) {
    for (const [key, it] of this.items) {
      if (this.bytes <= this.cap) break;
      if (key === keep) continue;
      this.items.delete(key);
      this.bytes -= it.data.byteLength;
      this.onEvict(it.swarm, it.seq);
    }
  }

  // seqs lists the segments held for one swarm.
  seqs(swarm) {
    const out = [];
    for (const it of this.items.values()) if (it.swarm === swarm) out.push(it.seq);
    return out;
  }

  // dropSwarm forgets every segment of a swarm (its session closed), without
  // calling onEvict.
  dropSwarm(swarm) {
    for (const [key, it] of this.items) {
      if (it.swarm !== swarm) continue;
      this.items.delete(key);
      this.bytes -= it.data.byteLength;
    }
  }
}
