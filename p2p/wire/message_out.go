package wire

import (
	"encoding/json"
	"errors"
)

// ClientConfig is the config object of welcome and config messages.
type ClientConfig struct {
	// MaxPeers is the most data channels a client keeps open.
	MaxPeers int `json:"max_peers"`
	// P2PWindowS is [lo,hi]: seconds ahead of the playhead within which the
	// client tries peers for a segment.
	P2PWindowS [2]float64 `json:"p2p_window_s"`
	// HTTPMarginS: a peer transfer still running when the buffer falls
	// below this many seconds is abandoned for HTTP.
	HTTPMarginS float64 `json:"http_margin_s"`
	// Spike reports spike mode (wider window).
	Spike bool `json:"spike"`
}

// Tracker → client messages.
type (
	// WelcomeMsg answers join.
	WelcomeMsg struct {
		V      int          `json:"v"`
		Peer   string       `json:"peer"`
		Group  string       `json:"group"`
		Policy Policy       `json:"policy"`
		Config ClientConfig `json:"config"`
	}
	// PeersMsg answers want: Fetch=true means take it over HTTP now;
	// otherwise ask Peers in order (empty: HTTP).
	PeersMsg struct {
		Seq    uint64   `json:"seq"`
		Fetch  bool     `json:"fetch"`
		Peers  []string `json:"peers"`
		SHA256 string   `json:"sha256"`
		Size   int64    `json:"size"`
	}
	// FetchMsg (live) names the receiver a fetcher of a new segment.
	FetchMsg struct {
		Seq    uint64 `json:"seq"`
		SHA256 string `json:"sha256,omitempty"`
		Size   int64  `json:"size,omitempty"`
	}
	// HashMsg pushes a hash the edge learned.
	HashMsg struct {
		Seq    uint64 `json:"seq"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	}
	// NeighborsMsg is the complete current neighbor list.
	NeighborsMsg struct {
		Peers []string `json:"peers"`
	}
	// ConfigMsg replaces the client config (spike mode on/off).
	ConfigMsg struct {
		Config ClientConfig `json:"config"`
	}
	// DropMsg tells a client to stop using a peer.
	DropMsg struct {
		Peer   string `json:"peer"`
		Reason string `json:"reason"`
	}
	// ErrorMsg reports a protocol error.
	ErrorMsg struct {
		Code string `json:"code"`
		Msg  string `json:"msg"`
	}
)

func (WelcomeMsg) Type() string   { return TypeWelcome }
func (PeersMsg) Type() string     { return TypePeers }
func (FetchMsg) Type() string     { return TypeFetch }
func (HashMsg) Type() string      { return TypeHash }
func (NeighborsMsg) Type() string { return TypeNeighbors }
func (ConfigMsg) Type() string    { return TypeConfig }
func (DropMsg) Type() string      { return TypeDrop }
func (ErrorMsg) Type() string     { return TypeError }

// Tracker messages are trusted by the decoder only structurally: clients
// ignore unknown fields and check what they use.
func (*WelcomeMsg) validate() error   { return nil }
func (*PeersMsg) validate() error     { return nil }
func (*FetchMsg) validate() error     { return nil }
func (*HashMsg) validate() error      { return nil }
func (*NeighborsMsg) validate() error { return nil }
func (*ConfigMsg) validate() error    { return nil }
func (*DropMsg) validate() error      { return nil }
func (*ErrorMsg) validate() error     { return nil }

// Peer ↔ peer control messages (the peer plane also uses HaveMsg).
type (
	// GetMsg requests segment Seq; ID is chosen by the requester.
	GetMsg struct {
		ID  uint64 `json:"id"`
		Seq uint64 `json:"seq"`
	}
	// DataMsg announces Size bytes of segment Seq in binary frames.
	DataMsg struct {
		ID   uint64 `json:"id"`
		Seq  uint64 `json:"seq"`
		Size int64  `json:"size"`
	}
	// NoneMsg: the segment is not available.
	NoneMsg struct {
		ID uint64 `json:"id"`
	}
	// CancelMsg: the requester gives up request ID.
	CancelMsg struct {
		ID uint64 `json:"id"`
	}
)

func (GetMsg) Type() string    { return TypeGet }
func (DataMsg) Type() string   { return TypeData }
func (NoneMsg) Type() string   { return TypeNone }
func (CancelMsg) Type() string { return TypeCancel }

func (m *GetMsg) validate() error {
	if m.ID > MaxSeq {
		return errors.New("id out of range")
	}
	return validSeq(m.Seq)
}

func (m *DataMsg) validate() error {
	if m.ID > MaxSeq || m.Size < 0 || m.Size > MaxSegmentBytes {
		return errors.New("id or size out of range")
	}
	return validSeq(m.Seq)
}

func (m *NoneMsg) validate() error   { return validID(m.ID) }
func (m *CancelMsg) validate() error { return validID(m.ID) }

func validID(id uint64) error {
	if id > MaxSeq {
		return errors.New("id out of range")
	}
	return nil
}

// Encode returns the JSON of m with its "t" field first. Nil slices of
// peers and ranges are encoded as [] rather than null.
func Encode(m Message) ([]byte, error) {
	m = normalize(m)
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(body)+len(m.Type())+8)
	out = append(out, `{"t":"`...)
	out = append(out, m.Type()...)
	out = append(out, '"')
	if len(body) > 2 {
		out = append(out, ',')
	}
	return append(out, body[1:]...), nil
}

// MustEncode is Encode for messages that cannot fail to encode (every
// message type of this package whose SignalMsg.Data is valid JSON).
func MustEncode(m Message) []byte {
	b, err := Encode(m)
	if err != nil {
		panic(err)
	}
	return b
}

func normalize(m Message) Message {
	switch v := m.(type) {
	case *PeersMsg:
		if v.Peers == nil {
			c := *v
			c.Peers = []string{}
			return &c
		}
	case *NeighborsMsg:
		if v.Peers == nil {
			return &NeighborsMsg{Peers: []string{}}
		}
	case *HaveMsg:
		if v.Ranges == nil {
			return &HaveMsg{Ranges: []Range{}}
		}
	case *LostMsg:
		if v.Ranges == nil {
			return &LostMsg{Ranges: []Range{}}
		}
	}
	return m
}
