package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Protocol constants (PROTOCOL.md, "Limits" and "Names").
const (
	// Subprotocol is the WebSocket subprotocol of version 1.
	Subprotocol = "classmesh-p2p.v1"
	// ProtocolVersion is the "v" of welcome and hashes.json.
	ProtocolVersion = 1
	// MaxMessageBytes bounds one tracker-plane message.
	MaxMessageBytes = 64 << 10
	// MaxPeerMessageBytes bounds one peer-plane control message.
	MaxPeerMessageBytes = 16 << 10
	// MaxDataFrameBytes bounds one binary frame of segment bytes on the
	// peer plane.
	MaxDataFrameBytes = 16 << 10
	// MaxRanges bounds the ranges of one have or lost message.
	MaxRanges = 512
	// MaxSeq is the largest segment number (2^53-1, JavaScript's largest
	// safe integer).
	MaxSeq uint64 = 1<<53 - 1
	// MaxSegmentBytes bounds a segment size and a report's byte count.
	MaxSegmentBytes int64 = 256 << 20
	// PeerIDLen is the length of a tracker-assigned peer id (hex).
	PeerIDLen = 16
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
	// refuses (Config.Admit); the socket is closed right after.
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

// Message is one protocol message. Encode adds the "t" field.
type Message interface {
	// Type is the message's "t".
	Type() string
	validate() error
}

// Client → tracker messages.
type (
	// JoinMsg joins a swarm; it must be the first message.
	JoinMsg struct {
		Swarm  string `json:"swarm"`
		Upload bool   `json:"upload"`
	}
	// HaveMsg adds held segments (tracker plane) or lists all held
	// segments (peer plane).
	HaveMsg struct {
		Ranges []Range `json:"ranges"`
	}
	// LostMsg removes held segments.
	LostMsg struct {
		Ranges []Range `json:"ranges"`
	}
	// WantMsg asks whom to fetch Seq from.
	WantMsg struct {
		Seq uint64 `json:"seq"`
	}
	// SignalMsg carries opaque WebRTC signalling: To from a client, From
	// from the tracker.
	SignalMsg struct {
		To   string          `json:"to,omitempty"`
		From string          `json:"from,omitempty"`
		Data json.RawMessage `json:"data"`
	}
	// ReportMsg reports one segment played (or a failed peer transfer).
	ReportMsg struct {
		Seq    uint64 `json:"seq"`
		Source string `json:"source"`
		Peer   string `json:"peer,omitempty"`
		Bytes  int64  `json:"bytes"`
		OK     bool   `json:"ok"`
		Reason string `json:"reason,omitempty"`
	}
	// ByeMsg leaves the swarm.
	ByeMsg struct{}
)

func (JoinMsg) Type() string   { return TypeJoin }
func (HaveMsg) Type() string   { return TypeHave }
func (LostMsg) Type() string   { return TypeLost }
func (WantMsg) Type() string   { return TypeWant }
func (SignalMsg) Type() string { return TypeSignal }
func (ReportMsg) Type() string { return TypeReport }
func (ByeMsg) Type() string    { return TypeBye }

func (m *JoinMsg) validate() error {
	if !ValidSwarm(m.Swarm) {
		return fmt.Errorf("invalid swarm %q", truncate(m.Swarm))
	}
	return nil
}
func (m *HaveMsg) validate() error { return validRanges(m.Ranges) }
func (m *LostMsg) validate() error { return validRanges(m.Ranges) }
func (m *WantMsg) validate() error { return validSeq(m.Seq) }
func (m *ByeMsg) validate() error  { return nil }

func (m *SignalMsg) validate() error {
	if !ValidPeerID(m.To) || m.From != "" {
		return fmt.Errorf("invalid signal peer %q", truncate(m.To))
	}
	if d := bytes.TrimSpace(m.Data); len(d) == 0 || d[0] != '{' {
		return errors.New("signal data is not an object")
	}
	return nil
}

func (m *ReportMsg) validate() error {
	if err := validSeq(m.Seq); err != nil {
		return err
	}
	switch m.Source {
	case SourceHTTP:
		if m.Peer != "" {
			return errors.New("report peer with source http")
		}
	case SourcePeer:
		if !ValidPeerID(m.Peer) {
			return fmt.Errorf("invalid report peer %q", truncate(m.Peer))
		}
	default:
		return fmt.Errorf("invalid report source %q", truncate(m.Source))
	}
	if m.Bytes < 0 || m.Bytes > MaxSegmentBytes {
		return fmt.Errorf("report bytes %d out of range", m.Bytes)
	}
	switch {
	case m.OK && m.Reason != "":
		return errors.New("report reason with ok=true")
	case !m.OK && !validReason(m.Reason):
		return fmt.Errorf("invalid report reason %q", truncate(m.Reason))
	}
	return nil
}

func validReason(r string) bool {
	return r == ReasonHash || r == ReasonSize || r == ReasonTimeout || r == ReasonClosed
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
