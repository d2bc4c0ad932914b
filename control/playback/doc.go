// Package playback signs and verifies playback tokens: short, URL-safe,
// HMAC-SHA256 authenticated grants that let a client fetch the media of one
// asset, or of every asset of one course, until an expiry time.
//
// # Where a token travels
//
// A token is carried as a path segment, /t/{token}/v/{asset}/..., rather
// than as a query parameter, so that the relative URLs inside HLS and DASH
// playlists resolve under the same prefix and carry the token to every
// segment request without rewriting the playlists. ParsePath splits such a
// path into the token and the remaining "/v/..." path.
//
// # Wire format
//
// A token is the unpadded URL-safe base64 (RFC 4648 §5) encoding of a
// compact binary payload followed by a 32-byte tag:
//
//	version   1 byte   (currently 1)
//	kid       1-byte length + 1..32 bytes of [A-Za-z0-9._-]
//	expiry    8 bytes  big-endian unix seconds (1 .. 253402300799)
//	scope     1-byte length + 1..128 bytes of [A-Za-z0-9._:-]:
//	          an asset id, or "course:{id}" for every asset of a course
//	subnet    1 byte family: 0 none, 4 IPv4, 6 IPv6; for 4 and 6 the
//	          masked prefix address (4 or 16 bytes) and its length (1 byte)
//	session   1-byte length + 0..64 bytes of [A-Za-z0-9._-]
//	tag       32 bytes HMAC-SHA256(secret, "classmesh/playback/v1\x00" || payload)
//
// The encoding is canonical: the decoder rejects non-canonical base64,
// trailing bytes, unmasked prefixes and out-of-range fields, so two
// different token strings never carry the same payload. The longest
// possible token is MaxTokenLen (512) characters or less.
//
// # Keys and rotation
//
// Keys are identified by a kid that travels in clear inside the token. A
// Verifier obtains the current key set from a function (typically backed by
// the replicated catalog's SigningKey records), so several keys can be
// active at once: new tokens are signed with the newest key while tokens
// signed with an older one keep verifying until that key's NotAfter.
//
// # Verification order and reasons
//
// Verifier.Verify checks, in order: the token decodes (ErrMalformed), its
// kid is known (ErrUnknownKid), the key is within its validity window
// (ErrKeyInactive), the tag matches in constant time (ErrBadSignature), the
// token has not expired (ErrExpired), the scope covers the requested asset
// or its course (ErrOutOfScope) and the optional subnet contains the client
// address (ErrWrongSubnet). Reason maps every such error to a stable,
// lower-case code suitable for the body of a 403 response.
package playback
