// Player-side P2P settings: the mode (on, download-only, off), the memory cap
// by device class, metered-connection detection and the effective scheduling
// configuration (tracker config merged with player overrides).

export const MODES = ['off', 'download-only', 'on'];

const MB = 1024 * 1024;

// Memory caps by device class (navigator.deviceMemory, in GiB, rounded down
// by the browser to 0.25 … 8). Browsers that do not tell get the middle value.
export const MEMORY_SMALL = 50 * MB;
export const MEMORY_UNKNOWN = 100 * MB;
export const MEMORY_LARGE = 200 * MB;

// DEFAULT_TRACKER_CONFIG is what a client uses before the tracker's welcome.
export const DEFAULT_TRACKER_CONFIG = Object.freeze({
  max_peers: 3,
  p2p_window_s: [6, 30],
  http_margin_s: 4,
  spike: false,
});

// parseMode reads "on", "off" or "download-only" (also "1"/"0"/"true"/
// "false"); it returns '' for anything else.
export function parseMode(v) {
  const s = String(v == null ? '' : v).trim().toLowerCase();
  if (MODES.includes(s)) return s;
  if (['1', 'true', 'yes'].includes(s)) return 'on';
  if (['0', 'false', 'no'].includes(s)) return 'off';
  if (s === 'download' || s === 'downloadonly') return 'download-only';
  return '';
}

// stricter returns the more restrictive of two modes (off < download-only < on).
export function stricter(a, b) {
  const ia = MODES.indexOf(parseMode(a) || 'on');
  const ib = MODES.indexOf(parseMode(b) || 'on');
  return MODES[Math.min(ia, ib)];
}

// memoryCap is the segment store budget for a device: ≤ 2 GiB of RAM → 50 MB,
// more → 200 MB, unknown → 100 MB.
export function memoryCap(deviceMemory) {
  if (typeof deviceMemory !== 'number' || !(deviceMemory > 0)) return MEMORY_UNKNOWN;
  return deviceMemory <= 2 ? MEMORY_SMALL : MEMORY_LARGE;
}

// isMetered reports whether the Network Information API says the user pays
// for traffic (Save-Data on, or a cellular link).
export function isMetered(connection) {
  if (!connection) return false;
  return connection.saveData === true || connection.type === 'cellular';
}

// userMode is the mode the player asks for: the explicit option or URL
// parameter (default on), limited to download-only on metered connections.
export function userMode(requested, connection) {
  const mode = parseMode(requested) || 'on';
  return isMetered(connection) ? stricter(mode, 'download-only') : mode;
}

function num(v, lo, hi, dflt) {
  if (v === null || v === undefined || v === '' || typeof v === 'boolean') return dflt;
  const n = Number(v);
  return Number.isFinite(n) && n >= lo && n <= hi ? n : dflt;
}

// effectiveConfig merges a tracker config object (untrusted shape) with player
// overrides {maxPeers, windowS: [lo,hi], httpMarginS} into
// {maxPeers, windowLo, windowHi, httpMargin, spike}.
export function effectiveConfig(tracker, overrides) {
  const t = tracker && typeof tracker === 'object' ? tracker : {};
  const o = overrides || {};
  const d = DEFAULT_TRACKER_CONFIG;
  const tw = Array.isArray(t.p2p_window_s) ? t.p2p_window_s : d.p2p_window_s;
  const ow = Array.isArray(o.windowS) ? o.windowS : tw;
  let windowLo = num(ow[0], 0, 3600, num(tw[0], 0, 3600, d.p2p_window_s[0]));
  let windowHi = num(ow[1], 0, 3600, num(tw[1], 0, 3600, d.p2p_window_s[1]));
  if (windowHi < windowLo) windowHi = windowLo;
  const httpMargin = num(o.httpMarginS, 0, 600, num(t.http_margin_s, 0, 600, d.http_margin_s));
  const maxPeers = Math.floor(num(o.maxPeers, 0, 64, num(t.max_peers, 0, 64, d.max_peers)));
  return { maxPeers, windowLo, windowHi, httpMargin, spike: t.spike === true };
}
