package control

import (
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// StreamLayer is the network raft runs over: a listener of incoming raft
// connections and a dialer of outgoing ones, the method set of
// raft.StreamLayer. The node passes the cluster's QUIC raft layer (its own
// ALPN, mutual TLS), so the raft address of a node is its QUIC address;
// tests may pass plain TCP.
//
// Invariant: the layer's Addr is the address other nodes dial this node
// at (the raft.ServerAddress the leader stores for it).
type StreamLayer interface {
	net.Listener
	// Dial opens a connection to the node at address, bounded by timeout
	// (zero: no bound but the layer's own).
	Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error)
}

// Settings of the raft transport the Store builds on a StreamLayer.
const (
	// raftNetMaxPool is how many idle outgoing connections raft keeps per
	// peer.
	raftNetMaxPool = 3
	// raftNetTimeout bounds one raft RPC's I/O (an InstallSnapshot
	// stream gets more, scaled by raft with its size).
	raftNetTimeout = 10 * time.Second
)

// newNetworkTransport builds raft's NetworkTransport on layer, logging
// through the Store's logger at RaftLogLevel. Closing the transport
// closes the layer.
func newNetworkTransport(layer StreamLayer, cfg *Config) *raft.NetworkTransport {
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  layer,
		MaxPool: raftNetMaxPool,
		Timeout: raftNetTimeout,
		Logger:  newHCLog(cfg.Logger, cfg.RaftLogLevel).Named("net"),
	})
}
