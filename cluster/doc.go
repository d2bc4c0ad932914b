// Package cluster joins classmesh nodes into one cluster.
//
// It owns membership (hashicorp/memberlist gossip with node metadata),
// the cluster secret and everything derived from it (the gossip
// encryption key and a deterministic Ed25519 certificate authority), the
// mutually authenticated QUIC transport used for node-to-node traffic,
// gossip key rotation, and (in the ring, fill and remote files) owner
// selection and the peer fill and remote-origin protocols, and (in the
// relay files) the live relay: objects on named tracks, published on one
// node and subscribed through it or through relay parents, one upstream
// subscription per track per node, newest data first (RELAY.md).
//
// The package knows nothing about HTTP routes; the node composition root
// wires it to the front door through small interfaces.
//
// See DESIGN.md for the trust model.
package cluster
