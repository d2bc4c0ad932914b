// Package control is the raft-backed catalog of classmesh: courses, modules,
// lessons, assets, live sessions, sites, signing keys and API tokens.
//
// A Store runs hashicorp/raft with its log and stable store in bbolt
// (raft-boltdb/v2) and the replicated state machine (the catalog) in its own
// bbolt file. Every node keeps a full replica, so reads are local; writes are
// commands (see Command) that the leader stamps and appends to the log. The
// FSM validates each command, checks references and optimistic concurrency,
// and records the last revisions of every record for rollback.
//
// The Store takes a StreamLayer (the node passes the cluster's QUIC raft
// layer) and builds raft's network transport on it; tests may pass a
// raft.Transport instead. Membership makes raft's configuration follow
// the cluster's gossip (membership.go); Forwarder sends writes and reads
// to the leader over streams the node provides; SiteView is the sites'
// networks for the P2P tracker. See DESIGN.md for the reasoning.
package control
