// Package api serves the catalog's HTTP JSON API under /api/v1/: CRUD for
// courses, modules, lessons, assets, live sessions, sites, signing keys and
// API tokens, with optimistic concurrency (If-Match on revisions), history and
// rollback, bearer-token authorization and an OpenAPI 3 description at
// /api/v1/openapi.json.
//
// Reads come from the local replica (a Reader, normally the *control.Store);
// ?consistency=linearizable first asks a Linearizer to catch the replica up
// with the leader. Writes go through a Writer, which on a follower forwards
// the command to the leader.
//
// Every answer is written by internal/httpx: JSON indented two spaces, and
// errors as its ErrorBody ({"error", "code", "field", "revision"}), the
// body the node's own /api/v1 endpoints answer too, so one client decodes
// them all (control/api/client).
package api
