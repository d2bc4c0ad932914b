// Package fill is the peer fill protocol (ALPN classmesh-fill/1): a node
// that does not hold a VOD segment asks the segment's owner (chosen by
// cluster/ring) for it over the cluster's mutual-TLS QUIC transport and
// streams the answer while the owner is still producing it.
//
// FillClient is the requester (client.go), FillServer the owner side
// (server.go) that answers through a FillHandler the node supplies;
// proto.go and frame.go are the request and response frames over
// internal/frame; fill.go holds the configuration, sentinels and stream
// error codes; metrics.go the classmesh_fill_* metrics.
//
// Invariants: a request travels at most MaxFillHops (2) hops and never
// loops (a receiver of the last hop answers from its cache or origin);
// the owner's header tells the size when known and the body is checked
// against it (ErrFillCorrupt otherwise); a requester that hears nothing
// before FirstByteTimeout gives up so the caller can read the origin;
// the server refuses with FillBusy beyond MaxConcurrent fills.
//
// The package knows no media or catalog: the node's handler (node/
// segments.go over node/internal/segsource) maps a FillRequest to bytes.
// See ../DESIGN.md, "Fills while the ring converges".
package fill
