// Package httpx writes HTTP answers, the one way every classmesh handler
// does: node's routes, LL-HLS (node/live), the catalog API (control/api),
// the tracker's hash lists (p2p) and the player's pages.
//
// There are four kinds of answer, one file each:
//
//   - Error (error.go): a short plain-text error, "Status Text: message",
//     never stored (Cache-Control: no-store), never sniffed, with any
//     Content-Length or ETag a handler had set for the body removed.
//   - JSON (json.go): a JSON body, indented two spaces, never stored.
//   - APIError (apierror.go): the one error body of /api/v1 (ErrorBody:
//     {"error": message, "code": code, ...}); the node's own endpoints and
//     the catalog API answer with it, and so do media refusals (403 with a
//     reason).
//   - ServeBody (body.go): a complete body whose bytes never change under
//     its ETag (VOD init and segments, playlists, live parts): ETag,
//     If-None-Match (304), Range through internal/httprange, HEAD, and a
//     fast path of one write (or sendfile) for plain GETs.
//
// Invariants: a writer sets every header it owns before WriteHeader and
// leaves headers it does not own (Retry-After, WWW-Authenticate, Vary,
// Content-Encoding) as the caller set them; no writer logs (the caller
// knows what the refusal means and logs it with its own logger).
package httpx
