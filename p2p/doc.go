// Package p2p is the tracker and signalling service that runs inside every
// classmesh edge at /p2p/ws. Viewers of the same rendition join a swarm,
// announce which segments they hold, ask whom to fetch a segment from,
// exchange WebRTC signalling through the tracker and report every transfer.
//
// The tracker groups peers by locality (catalog site, shared public address,
// /24 or /48, region), names a few fetchers per segment and group that take
// the segment over HTTP while the rest are pointed at holders, publishes the
// SHA-256 of every segment the edge knows (in messages and in hashes.json),
// drops peers that viewers at several addresses report for bad bytes
// (reports are counted and budgeted per address, reports.go), widens the peer window in spike mode and
// measures offload from the edge's own served-bytes counter against the
// bytes viewers report as played.
//
// The wire protocol is specified in PROTOCOL.md; its Go form (messages,
// decoders, swarm ids, ranges, hashes.json) is package p2p/wire, shared with
// p2p/peer. This package is the tracker's state and policy only. The
// reasoning behind grouping, fetcher choice and memory layout is in
// DESIGN.md.
package p2p
