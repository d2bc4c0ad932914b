// Package cluster joins classmesh nodes into one cluster.
//
// It owns membership (hashicorp/memberlist gossip with node metadata),
// the cluster secret and everything derived from it (the gossip
// encryption key and a deterministic Ed25519 certificate authority), the
// mutually authenticated QUIC transport used for node-to-node traffic,
// gossip key rotation, and (in the ring and fill files) owner selection
// and the peer fill protocol, and (in the
// relay files) the live relay: objects on named tracks, published on one
// node and subscribed through it or through relay parents, one upstream
// subscription per track per node, newest data first (RELAY.md).
//
// The package knows nothing about HTTP routes, media or the catalog, and
// imports nothing from node/... (ARCHITECTURE.md, checked by
// internal/archtest). The remote-origin protocol that reads another node's
// media lives in node/origin/remote; Peers lists the members it may read
// from. The node composition root wires both through small interfaces.
//
// See DESIGN.md for the trust model.
package cluster
