// Scheduling decisions, kept pure so they can be unit-tested: where a media
// segment comes from, and when a running peer transfer is abandoned.

// Decisions of plan().
export const HTTP = 'http';
export const PEER = 'peer';
export const WAIT = 'wait';

// plan decides how to load a segment that plays untilPlay seconds after the
// playhead, with bufferAhead seconds buffered:
//   - HTTP when P2P cannot help: not joined yet, no download from peers, the
//     buffer below the HTTP margin (startup), or the segment nearer than the
//     window's low edge;
//   - WAIT when it is beyond the window's high edge (not fetched yet);
//   - PEER otherwise.
// s: {joined, download, bufferAhead, untilPlay}; cfg from effectiveConfig.
export function plan(s, cfg) {
  if (!s.joined || !s.download) return HTTP;
  if (!(s.bufferAhead >= cfg.httpMargin)) return HTTP;
  if (!(s.untilPlay >= cfg.windowLo)) return HTTP;
  if (s.untilPlay > cfg.windowHi) return WAIT;
  return PEER;
}

// abandon reports whether a peer transfer must give way to HTTP now: the
// buffer ahead fell below the margin while the video is playing.
export function abandon(bufferAhead, playing, cfg) {
  return playing && bufferAhead < cfg.httpMargin;
}

// stalled reports whether a peer transfer made no progress for too long
// (no first byte, or no bytes since the last frame).
export function stalled(now, lastProgress, stallMs) {
  return now - lastProgress > stallMs;
}

// orderPeers sorts the tracker's candidates (already in its preference order)
// so that peers with an open, idle channel come first, then open but busy
// ones, then peers still connecting; unknown ids are left out.
// state(id) returns 'idle', 'busy', 'connecting' or '' (no link).
export function orderPeers(ids, state) {
  const rank = { idle: 0, busy: 1, connecting: 2 };
  const known = [];
  ids.forEach((id, i) => {
    const s = state(id);
    if (s in rank) known.push({ id, r: rank[s], i });
  });
  known.sort((a, b) => a.r - b.r || a.i - b.i);
  return known.map((k) => k.id);
}

// shouldOffer reports whether this client sends the WebRTC offer to a
// neighbor: the lower id offers, and a download-only client always offers
// (it is never given as a neighbor to others).
export function shouldOffer(myId, theirId, downloadOnly) {
  return downloadOnly || myId < theirId;
}
