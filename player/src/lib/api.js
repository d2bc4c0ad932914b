// Client for the node's catalog API (/api/v1/assets).

// HTTPError is thrown for non-2xx answers; status is the HTTP status code.
export class HTTPError extends Error {
  constructor(url, status) {
    super(`${url}: HTTP ${status}`);
    this.name = 'HTTPError';
    this.status = status;
  }
}

async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) throw new HTTPError(url, res.status);
  return res.json();
}

// listAssets returns the course's assets.
export async function listAssets() {
  const list = await getJSON('/api/v1/assets');
  if (!Array.isArray(list)) throw new Error('/api/v1/assets: expected a JSON array');
  return list;
}

// getAsset returns one asset by id. With a playback token (a signed
// link) the metadata of a private lecture is asked with that token.
export function getAsset(id, token) {
  return getJSON(`${tokenPrefix(token)}/api/v1/assets/${encodeURIComponent(id)}`);
}

// tokenPrefix is the path prefix of a signed link: /t/{token}, or ''.
function tokenPrefix(token) {
  return token ? `/t/${encodeURIComponent(token)}` : '';
}

// masterURL is the HLS master playlist of an asset; with a playback token
// it is the signed form /t/{token}/v/… whose relative URLs carry it.
export function masterURL(id, token) {
  return `${tokenPrefix(token)}/v/${encodeURIComponent(id)}/master.m3u8`;
}

// liveURL is the LL-HLS master playlist of a live session (signed form
// /t/{token}/live/… with a token).
export function liveURL(id, token) {
  return `${tokenPrefix(token)}/live/${encodeURIComponent(id)}/master.m3u8`;
}

// checkAccess asks the edge whether the playlist at url may be played:
// it resolves to '' when it may (or when the edge cannot say, e.g. a
// network error: playback then reports its own error), or to the refusal
// reason code of a 403 ('token_required', 'expired', 'out_of_scope', ...).
export async function checkAccess(url) {
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
  } catch (_) {
    return '';
  }
  if (res.status !== 403) {
    res.body && res.body.cancel && res.body.cancel().catch(() => {});
    return '';
  }
  try {
    const body = await res.json();
    return (body && typeof body.reason === 'string' && body.reason) || 'forbidden';
  } catch (_) {
    return 'forbidden';
  }
}

// accessMessage is what the player page says for a refusal reason.
export function accessMessage(reason) {
  switch (reason) {
    case 'expired':
      return 'This link has expired. Open the lecture again from your course to get a new link.';
    case 'wrong_subnet':
      return 'This link only works on your campus network. Connect to it, or open the lecture again from your course.';
    case 'token_required':
      return 'This lecture needs a link from your course. Open it from your course page (for example in your learning platform).';
    default:
      return 'This link is not valid for this lecture. Open the lecture again from your course to get a new link.';
  }
}

// watchURL is the player page of an asset.
export function watchURL(id) {
  return `/watch/${encodeURIComponent(id)}`;
}

// assetIdFromPath extracts the asset id from /watch/{id} or
// /t/{token}/watch/{id}.
export function assetIdFromPath(pathname) {
  return watchPath(pathname).id;
}

// watchPath splits /watch/{id} and /t/{token}/watch/{id} into
// {id, token}; both are '' when the path is neither.
export function watchPath(pathname) {
  const m = /^(?:\/t\/([A-Za-z0-9_-]{1,512}))?\/watch\/([^/]+)\/?$/.exec(pathname);
  if (!m) return { id: '', token: '' };
  try {
    return { id: decodeURIComponent(m[2]), token: m[1] || '' };
  } catch (_) {
    return { id: '', token: '' };
  }
}
