// Package wire is the classmesh peer-assistance protocol (p2p/PROTOCOL.md)
// in Go: the one definition the tracker (package p2p), the Go peer
// (p2p/peer), the load programs and the tests share, and the Go form of
// what the browser loader (player/) speaks.
//
// It holds the message types of the three planes (client → tracker,
// tracker → client, peer ↔ peer) and their JSON encoding, the strict
// decoders for untrusted input and the lenient one for clients, error
// codes, report reasons and drop reasons, the limits of PROTOCOL.md, swarm
// ids and their derivation from media URLs, site policies, segment ranges
// and range sets, and hashes.json.
//
// Invariants:
//   - Pure: no state, no goroutines, no I/O beyond the reader given to
//     DecodeHashList. Importing wire never pulls in the tracker.
//   - Every value a strict decoder returns is within the ranges of
//     PROTOCOL.md ("Names" and "Limits"); every decode error wraps
//     ErrBadMessage or ErrTooLarge. Their text starts with "p2p:" (the
//     protocol's name) because the tracker sends it to clients.
//   - Encode writes "t" first and never null for a list; what a strict
//     decoder accepted re-encodes to a message it accepts again (fuzzed).
package wire
