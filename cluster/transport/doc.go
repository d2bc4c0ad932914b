// Package transport carries classmesh's node-to-node streams: QUIC with
// mutual TLS on one UDP socket, every certificate chaining to the cluster
// CA.
//
// It owns the CA (derived from the cluster secret or loaded from an
// operator's files), leaf issuance and rotation, peer certificate
// verification, per-ALPN stream handlers, the pooled dialled connections,
// identity probes, refusal logging and the connection, stream and refusal
// metrics.
//
// Invariants:
//   - No stream is served or opened before the peer's certificate chains
//     to the CA; a refusal is logged (rate-limited per reason) and counted
//     by reason on both ends.
//   - One connection per (peer address, ALPN) is pooled and re-dialled
//     when dead; Probe never uses the pool.
//   - Close tells every peer, accepted or dialled, before it closes the
//     socket, and waits for every handler and connection goroutine.
//
// The package knows nothing of membership, gossip or the protocols that
// run over it, and imports nothing of cluster's other packages
// (internal/archtest). Package cluster builds one Transport per node and
// registers its ALPNs on it.
package transport
