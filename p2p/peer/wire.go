package peer

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Data-channel flow control: the sender stops queueing above highWater
// and resumes when pion reports the buffer below lowWater.
const (
	highWater = 512 << 10
	lowWater  = 128 << 10
)

// errBadChannelMessage wraps every data-channel control decode error.
var errBadChannelMessage = errors.New("peer: bad channel message")

// chanMsg is one decoded peer-plane control message in a flat form.
type chanMsg struct {
	t    string        // wire.TypeHave, TypeGet, TypeData, TypeNone, TypeCancel
	have wire.RangeSet // have: normalised
	id   uint64
	seq  uint64
	size int64
}

// decodeChannel decodes one text frame from a neighbor (untrusted) with
// the strict peer-plane decoder of package p2p and normalises the ranges
// of have (sorted, merged, bounded).
func decodeChannel(b []byte) (chanMsg, error) {
	m, err := wire.DecodePeerMessage(b)
	if err != nil {
		return chanMsg{}, fmt.Errorf("%w: %w", errBadChannelMessage, err)
	}
	switch v := m.(type) {
	case *wire.HaveMsg:
		return chanMsg{t: wire.TypeHave, have: wire.NewRangeSet(v.Ranges, maxNeighborRanges)}, nil
	case *wire.GetMsg:
		return chanMsg{t: wire.TypeGet, id: v.ID, seq: v.Seq}, nil
	case *wire.DataMsg:
		return chanMsg{t: wire.TypeData, id: v.ID, seq: v.Seq, size: v.Size}, nil
	case *wire.NoneMsg:
		return chanMsg{t: wire.TypeNone, id: v.ID}, nil
	case *wire.CancelMsg:
		return chanMsg{t: wire.TypeCancel, id: v.ID}, nil
	}
	return chanMsg{}, fmt.Errorf("%w: type %T", errBadChannelMessage, m)
}

// signalData is the opaque data of a tracker signal message as browsers
// and this package write it: {"sdp":{type,sdp}} or {"candidate":{...}}.
type signalData struct {
	SDP       *webrtc.SessionDescription `json:"sdp,omitempty"`
	Candidate *webrtc.ICECandidateInit   `json:"candidate,omitempty"`
}

// decodeSignal parses signal data relayed by the tracker from another
// peer. Anything else than one SDP or one candidate is an error.
func decodeSignal(raw json.RawMessage) (signalData, error) {
	var d signalData
	if len(raw) > wire.MaxMessageBytes {
		return d, fmt.Errorf("peer: signal data of %d bytes", len(raw))
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, fmt.Errorf("peer: signal data: %w", err)
	}
	if d.SDP != nil && d.SDP.Type != webrtc.SDPTypeOffer && d.SDP.Type != webrtc.SDPTypeAnswer {
		return d, fmt.Errorf("peer: signal sdp type %q", d.SDP.Type)
	}
	return d, nil
}

func encodeSignal(d signalData) json.RawMessage {
	b, err := json.Marshal(d)
	if err != nil { // SessionDescription and ICECandidateInit always marshal
		panic(err)
	}
	return b
}
