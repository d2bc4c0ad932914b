package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

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
