// Package cluster joins classmesh nodes into one cluster.
//
// It owns membership (hashicorp/memberlist gossip with node metadata),
// the cluster secret and everything derived from it (the gossip
// encryption key and a deterministic Ed25519 certificate authority), the
// mutually authenticated QUIC transport used for node-to-node traffic,
// member verification, gossip key rotation and raft's stream layer.
//
// The protocols that run over the transport live in subpackages, one
// idea each: cluster/ring (owner selection over a member view),
// cluster/fill (the peer fill protocol) and cluster/relay (the live
// relay, RELAY.md). They import cluster; cluster imports none of them.
//
// The package knows nothing about HTTP routes, media or the catalog, and
// imports nothing from node/... (ARCHITECTURE.md, checked by
// internal/archtest). The remote-origin protocol that reads another node's
// media lives in node/origin/remote; Peers lists the members it may read
// from. The node composition root wires both through small interfaces.
//
// See DESIGN.md for the trust model.
package cluster
