// Package relay moves live objects on named tracks between classmesh
// nodes over the cluster's mutual-TLS QUIC transport (ALPN
// classmesh-relay/1).
//
// A node publishes tracks it produces (Publish); any node subscribes
// through the publisher or through a relay parent (Subscribe), with one
// upstream subscription per track per node however many local and remote
// subscribers it serves, newest data first. The files follow the idea:
// relay.go (lifecycle, publish, subscribe), hub.go (one track's bounded
// cache), cursor.go (a subscriber's position and skip policy), sub.go
// (the subscriber side), server.go and client.go (the two ends of the
// protocol), proto.go (its frames, over internal/frame), config.go and
// metrics.go.
//
// Invariants: exactly one upstream subscription per track per node; the
// per-track cache is bounded in groups and bytes and read by cursors,
// never copied into per-subscriber queues; a subscriber gets a track's
// init before the first object that needs it; a group whose data waited
// longer than the delivery timeout is cancelled, not queued.
//
// The package knows nothing about HLS or media: node/internal/livebridge
// maps sessions to tracks and chooses upstreams (SetResolver). It uses
// the cluster only for its Transport. See RELAY.md for the design, the
// wire format and the figures.
package relay
