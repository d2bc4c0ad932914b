// Package client is a typed Go client of a node's HTTP API under /api/v1,
// written against control/api/openapi.json: the catalog (courses, modules,
// lessons, assets, sessions, sites, signing keys, API tokens), playback
// tokens, and the operator endpoints (cluster members, gossip keys, raft
// status). Every classmesh CLI command talks to a node through it.
//
// Request and response types are the server's own: the control model
// records (control.Course, ...), and the shapes in package api
// (api.AssetView, api.Member, api.PlaybackToken, ...). The client keeps no
// copies, so it cannot drift from what the node writes.
//
// Invariants:
//   - Every non-2xx answer is returned as an *Error carrying the status and
//     the API's error body (code, field, current revision) and, on 503 and
//     429, the Retry-After delay. A transport failure is an
//     *UnreachableError. Nothing else is returned for a failed call.
//   - The client never retries. A 503 with code "unavailable" was not
//     applied and may be retried after Error.RetryAfter (Retry does exactly
//     that, a bounded number of times); a 503 with code "indeterminate" may
//     have been applied and must be read before it is retried.
//   - GET /api/v1/assets is the one collection answered with a bare JSON
//     array (the node merges what it packages; the player reads an array);
//     every other collection and every history is {"items": [...]}. List
//     accepts both.
package client
