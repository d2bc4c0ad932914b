// Segment sets as compact inclusive ranges ([[0,5],[8,8]]), the form the
// tracker and the peer channel use for "have" and "lost".

// MAX_RANGES is the most ranges one have/lost message may carry (PROTOCOL.md).
export const MAX_RANGES = 512;

// isSeq reports whether v is a valid segment number (0 … 2^53−1).
export function isSeq(v) {
  return Number.isSafeInteger(v) && v >= 0;
}

// toRanges turns segment numbers (any order, duplicates allowed) into sorted,
// merged inclusive ranges.
export function toRanges(seqs) {
  const sorted = Array.from(seqs).filter(isSeq).sort((a, b) => a - b);
  const out = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1) {
      if (s > last[1]) last[1] = s;
    } else {
      out.push([s, s]);
    }
  }
  return out;
}

// limitRanges keeps at most max ranges, dropping the lowest (oldest) ones.
export function limitRanges(ranges, max = MAX_RANGES) {
  return ranges.length <= max ? ranges : ranges.slice(ranges.length - max);
}

// parseRanges validates ranges received from a peer: an array of at most max
// [a,b] pairs with a ≤ b. It returns sorted, merged ranges, or null when the
// value is malformed.
export function parseRanges(v, max = MAX_RANGES) {
  if (!Array.isArray(v) || v.length > max) return null;
  const pairs = [];
  for (const r of v) {
    if (!Array.isArray(r) || r.length !== 2 || !isSeq(r[0]) || !isSeq(r[1]) || r[0] > r[1]) return null;
    pairs.push([r[0], r[1]]);
  }
  pairs.sort((x, y) => x[0] - y[0]);
  const out = [];
  for (const [a, b] of pairs) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) {
      if (b > last[1]) last[1] = b;
    } else {
      out.push([a, b]);
    }
  }
  return out;
}

// rangesHas reports whether seq lies in sorted, merged ranges.
export function rangesHas(ranges, seq) {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = ranges[mid];
    if (seq < a) hi = mid - 1;
    else if (seq > b) lo = mid + 1;
    else return true;
  }
  return false;
}
