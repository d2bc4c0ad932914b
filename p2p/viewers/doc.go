// Package viewers emulates many viewers of one HLS stream for "classmesh
// swarm": each viewer is a p2p/peer.Peer with its own bandwidth caps that
// fetches a buffer ahead of its playhead and plays in real time by the
// EXTINF durations. The run reports offload (bytes from peers over all
// segment bytes), stalls, startup times and peers connected — the figures
// an operator checks before a lecture goes out, and benchmark B9.
//
// The package is not named swarm: a swarm is the tracker's word (package
// p2p) for the viewers of one rendition, and the protocol's (p2p/wire) for
// its id.
package viewers
