// Integrity check of peer segments against the SHA-256 and size the edge
// published, with WebCrypto (crypto.subtle.digest), before hls.js sees them.

const HEX64 = /^[0-9a-f]{64}$/;

// isSHA256 reports whether s is 64 lowercase hex characters.
export function isSHA256(s) {
  return typeof s === 'string' && HEX64.test(s);
}

function hex(buf) {
  const b = new Uint8Array(buf);
  let out = '';
  for (let i = 0; i < b.length; i++) out += b[i].toString(16).padStart(2, '0');
  return out;
}

// sha256Hex hashes an ArrayBuffer or view; subtle defaults to the global
// crypto.subtle (browsers in secure contexts and on localhost, Node ≥ 20).
export async function sha256Hex(data, subtle) {
  const s = subtle || (globalThis.crypto && globalThis.crypto.subtle);
  if (!s) throw new Error('p2p: WebCrypto is not available');
  return hex(await s.digest('SHA-256', data));
}

// verifySegment checks bytes against the edge's {sha256, size}; it returns
// {ok: true} or {ok: false, reason: 'size'|'hash'}.
export async function verifySegment(data, expected, subtle) {
  if (!expected || !isSHA256(expected.sha256)) return { ok: false, reason: 'hash' };
  if (expected.size > 0 && data.byteLength !== expected.size) return { ok: false, reason: 'size' };
  const sum = await sha256Hex(data, subtle);
  return sum === expected.sha256 ? { ok: true } : { ok: false, reason: 'hash' };
}
