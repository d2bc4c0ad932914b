// Swarm ids and URLs. A swarm is named by content, not URL (PROTOCOL.md,
// "Names"): vod/{asset}/{rendition} or live/{session}/{rendition}, derived
// from the path of a media playlist or segment URL; host and query are
// ignored, so signed URLs and different edges share one swarm.

const COMPONENT = /^[A-Za-z0-9._~-]{1,128}$/;
const SEGMENT = /^seg-(0|[1-9][0-9]{0,15})\.m4s$/;

// MAX_SWARM_LEN is the longest valid swarm id.
export const MAX_SWARM_LEN = 300;

function component(s) {
  return typeof s === 'string' && COMPONENT.test(s) && s !== '.' && s !== '..';
}

function pathOf(url, base) {
  try {
    return new URL(url, base || 'http://localhost/').pathname;
  } catch (_) {
    return '';
  }
}

// swarmFromURL returns the swarm id of a media playlist or segment URL
// (absolute, or relative to base), or '' when the URL is not one of
// /v/{asset}/{rendition}/…, /t/{token}/v/{asset}/{rendition}/…,
// /live/{session}/{rendition}/… or /t/{token}/live/{session}/{rendition}/….
export function swarmFromURL(url, base) {
  const parts = pathOf(url, base).split('/').slice(1);
  let kind;
  let rest;
  if (parts[0] === 'v') {
    kind = 'vod';
    rest = parts.slice(1);
  } else if (parts[0] === 't' && parts[2] === 'v' && parts[1]) {
    kind = 'vod';
    rest = parts.slice(3);
  } else if (parts[0] === 'live') {
    kind = 'live';
    rest = parts.slice(1);
  } else if (parts[0] === 't' && parts[2] === 'live' && parts[1]) {
    kind = 'live';
    rest = parts.slice(3);
  } else {
    return '';
  }
  if (rest.length !== 3 || !component(rest[0]) || !component(rest[1]) || !rest[2]) return '';
  const id = `${kind}/${rest[0]}/${rest[1]}`;
  return id.length <= MAX_SWARM_LEN ? id : '';
}

// segmentSeq returns N of a …/seg-N.m4s URL, or -1 for any other URL
// (init segments, playlists, byte ranges are never shared).
export function segmentSeq(url, base) {
  const path = pathOf(url, base);
  const m = SEGMENT.exec(path.slice(path.lastIndexOf('/') + 1));
  if (!m) return -1;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : -1;
}

// siblingURL replaces the last path element of url with name, keeping the
// query string (hashes.json and other segments live beside the playlist).
export function siblingURL(url, name, base) {
  const u = new URL(url, base || 'http://localhost/');
  u.pathname = u.pathname.slice(0, u.pathname.lastIndexOf('/') + 1) + name;
  u.hash = '';
  return u.href;
}

// hashesURL is the edge's hash list beside a segment or playlist URL.
export function hashesURL(url, base) {
  return siblingURL(url, 'hashes.json', base);
}

// segmentURL is the URL of segment seq beside another segment URL.
export function segmentURL(url, seq, base) {
  return siblingURL(url, `seg-${seq}.m4s`, base);
}

// trackerURL is the tracker WebSocket of the page's own edge. With a
// playback token it is /t/{token}/p2p/ws: the tracker admits the socket to
// the swarm of private media only with the token its HTTP requests carry.
export function trackerURL(location, token) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const prefix = token ? `/t/${encodeURIComponent(token)}` : '';
  return `${scheme}//${location.host}${prefix}/p2p/ws`;
}
