package wire

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
