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

// getAsset returns one asset by id.
export function getAsset(id) {
  return getJSON(`/api/v1/assets/${encodeURIComponent(id)}`);
}

// masterURL is the HLS master playlist of an asset.
export function masterURL(id) {
  return `/v/${encodeURIComponent(id)}/master.m3u8`;
}

// liveURL is the LL-HLS master playlist of a live session.
export function liveURL(id) {
  return `/live/${encodeURIComponent(id)}/master.m3u8`;
}

// watchURL is the player page of an asset.
export function watchURL(id) {
  return `/watch/${encodeURIComponent(id)}`;
}

// assetIdFromPath extracts the asset id from /watch/{id}.
export function assetIdFromPath(pathname) {
  const m = /^\/watch\/([^/]+)\/?$/.exec(pathname);
  if (!m) return '';
  try {
    return decodeURIComponent(m[1]);
  } catch (_) {
    return '';
  }
}
