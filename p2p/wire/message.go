package wire

import (
	"errors"
	"fmt"
)

// Message types. Client → tracker: join, have, lost, want, signal, report,
// bye. Tracker → client: welcome, peers, fetch, hash, neighbors, signal,
// config, drop, error. Peer ↔ peer: have, get, data, none, cancel.
const (
	TypeJoin      = "join"
	TypeHave      = "have"
	TypeLost      = "lost"
	TypeWant      = "want"
	TypeSignal    = "signal"
	TypeReport    = "report"
	TypeBye       = "bye"
	TypeWelcome   = "welcome"
	TypePeers     = "peers"
	TypeFetch     = "fetch"
	TypeHash      = "hash"
	TypeNeighbors = "neighbors"
	TypeConfig    = "config"
	TypeDrop      = "drop"
	TypeError     = "error"
	TypeGet       = "get"
	TypeData      = "data"
	TypeNone      = "none"
	TypeCancel    = "cancel"
)

// Report sources and failure reasons.
const (
	SourceHTTP = "http"
	SourcePeer = "peer"

	ReasonHash    = "hash"
	ReasonSize    = "size"
	ReasonTimeout = "timeout"
	ReasonClosed  = "closed"
)

// Error codes of the error message.
const (
	CodeBadMessage   = "bad_message"
	CodeTooLarge     = "too_large"
	CodeRateLimited  = "rate_limited"
	CodeOutOfOrder   = "out_of_order"
	CodeUnknownSwarm = "unknown_swarm"
	CodeUnknownPeer  = "unknown_peer"
	CodeDropped      = "dropped"
	// CodeForbidden answers a join the edge's playback authorisation
	// refuses (the tracker's Config.Admit); the socket is closed right after.
	CodeForbidden = "forbidden"
)

// Drop reasons.
const (
	DropBadSegment = "bad_segment"
	DropLeft       = "left"
)

// Decoder errors. Every decode error wraps one of them.
var (
	// ErrBadMessage: not a valid message (syntax, type, fields, ranges).
	ErrBadMessage = errors.New("p2p: bad message")
	// ErrTooLarge: the message exceeds the size limit.
	ErrTooLarge = errors.New("p2p: message too large")
)

// Message is one protocol message. Encode adds the "t" field. Only this
// package's types implement it (validate is unexported), so a decoded
// Message is always one of them.
type Message interface {
	// Type is the message's "t".
	Type() string
	// validate checks the value ranges of PROTOCOL.md.
	validate() error
}

func validSeq(s uint64) error {
	if s > MaxSeq {
		return fmt.Errorf("seq %d above %d", s, MaxSeq)
	}
	return nil
}

// ValidPeerID reports whether id has the form of a tracker-assigned peer id
// (16 lowercase hex characters).
func ValidPeerID(id string) bool {
	if len(id) != PeerIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
