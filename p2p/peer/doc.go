// Package peer is a Go implementation of the classmesh browser peer: it
// joins a swarm at an edge's tracker (/p2p/ws), keeps WebRTC data channels
// (pion/webrtc) to the neighbors the tracker chooses, takes segments from
// peers or over HTTP as the tracker directs, verifies every peer segment
// against the size and SHA-256 the edge published, reports every segment
// and serves the segments it holds to its neighbors.
//
// The wire protocol is p2p/PROTOCOL.md; the message types come from package
// p2p/wire (this package does not import the tracker). A Peer is used by
// "classmesh swarm" (package p2p/viewers) to emulate
// many viewers with per-viewer bandwidth caps, and by tests (including a
// Malicious mode that corrupts every segment it serves).
//
// Typical use:
//
//	api, _ := peer.NewAPI(peer.APIConfig{Loopback: true, Interfaces: []string{"lo"}})
//	p, _ := peer.New(peer.Config{TrackerURL: "ws://edge/p2p/ws", MediaURL: mediaURL, Upload: true, API: api})
//	_ = p.Start(ctx)
//	defer p.Close()
//	res, err := p.Fetch(ctx, peer.Request{Seq: 3, URL: segURL, PlayAt: playAt})
package peer
