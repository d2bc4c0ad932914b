// Package cluster joins classmesh nodes into one cluster.
//
// It owns membership (hashicorp/memberlist gossip with node metadata),
// the cluster secret and what is derived from it here (the gossip
// encryption key, the QUIC stateless-reset key), member verification,
// gossip key rotation and raft's stream layer. The mutually authenticated
// QUIC transport and the cluster CA are cluster/transport, which knows
// nothing of membership; a Cluster builds one and registers its ALPNs.
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
