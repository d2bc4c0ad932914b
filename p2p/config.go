package p2p

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Defaults applied to zero Config fields.
const (
	DefaultMaxPeers               = 3
	DefaultHTTPMarginS            = 4.0
	DefaultSpikeSwarmSize         = 100
	DefaultSpikeEgressBytesPerSec = 500 << 20
	DefaultSpikeCalm              = 30 * time.Second
	DefaultFetchTimeout           = 10 * time.Second
	DefaultIdleTimeout            = 120 * time.Second
	DefaultWriteTimeout           = 10 * time.Second
	DefaultMsgRate                = 20.0
	DefaultMsgBurst               = 40
	DefaultMaxConnsPerAddr        = 2048
	DefaultConnectRate            = 20.0
	DefaultConnectBurst           = 100
	DefaultMaxErrors              = 5
	DefaultErrorWindow            = 60 * time.Second
	DefaultSendQueue              = 64
	DefaultHashSegmentsPerSwarm   = 20000
	DefaultHashSegmentsTotal      = 1 << 20
	DefaultMaxAssetLabels         = 100
	DefaultMaxSiteLabels          = 64
	DefaultOffloadWindow          = 5 * time.Minute
	DefaultDropQuorum             = 2
	DefaultReportWindow           = 10 * time.Minute
	DefaultReportBurst            = 3
	DefaultReportRate             = 1.0 / 600 // one report per 10 minutes
)

// Default p2p windows in seconds ahead of the playhead.
var (
	DefaultWindow      = [2]float64{6, 30}
	DefaultSpikeWindow = [2]float64{4, 60}
)

// ErrInvalidConfig wraps every Validate failure.
var ErrInvalidConfig = errors.New("p2p: invalid config")

// Config configures a Tracker. The zero value is valid: every zero field
// takes its documented default.
type Config struct {
	// Region is this node's region; it labels the region group when
	// CrossGroup is set.
	Region string
	// Sites maps client addresses to catalog sites (group and policy).
	// nil means no sites: every client gets DefaultPolicy.
	Sites Sites
	// DefaultPolicy applies to clients in no site. "" means PolicyOn.
	DefaultPolicy wire.Policy
	// CrossGroup lets peers that are in no site pair across /24 (/48)
	// prefixes within the node's region (one "region" group). false (the
	// default) pairs only inside a prefix group. Site peers never pair
	// outside their site.
	CrossGroup bool
	// MaxPeers is the most neighbors a peer is given. 0 means
	// DefaultMaxPeers (3: more neighbors cost every viewer a WebRTC
	// connection each and measured lower offload, docs/BENCHMARKS.md B9).
	MaxPeers int
	// Window and SpikeWindow are the p2p windows [lo,hi] in seconds sent
	// in normal and spike mode. Zero means DefaultWindow / DefaultSpikeWindow.
	Window, SpikeWindow [2]float64
	// HTTPMarginS is sent as http_margin_s. 0 means DefaultHTTPMarginS.
	HTTPMarginS float64
	// SpikeSwarmSize: a swarm with at least this many peers is in spike
	// mode. 0 means DefaultSpikeSwarmSize; negative disables.
	SpikeSwarmSize int
	// SpikeEgressBytesPerSec: node egress (Served bytes per second over
	// 10 s) at or above this puts every swarm in spike mode. 0 means
	// DefaultSpikeEgressBytesPerSec; negative disables.
	SpikeEgressBytesPerSec int64
	// SpikeCalm is how long a swarm must stay below 80 % of the size
	// threshold and the node below 70 % of the egress threshold before
	// spike mode ends. 0 means DefaultSpikeCalm.
	SpikeCalm time.Duration
	// FetchTimeout is how long a named fetcher counts as fetching. 0 means
	// DefaultFetchTimeout.
	FetchTimeout time.Duration
	// IdleTimeout closes sockets silent for this long. 0 means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// WriteTimeout bounds one WebSocket write. 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// MsgRate and MsgBurst are the per-connection token bucket (messages
	// per second, bucket size). 0 means the defaults.
	MsgRate  float64
	MsgBurst int
	// MaxConnsPerAddr bounds concurrent sockets per client address (per
	// /64 for IPv6); addresses inside a site are exempt. 0 means
	// DefaultMaxConnsPerAddr; negative means unlimited.
	MaxConnsPerAddr int
	// ConnectRate and ConnectBurst are the per-address token bucket for
	// new sockets. 0 means the defaults; a negative ConnectRate disables.
	ConnectRate  float64
	ConnectBurst int
	// MaxErrors error replies within ErrorWindow close the socket with
	// 1008. 0 means DefaultMaxErrors / DefaultErrorWindow.
	MaxErrors   int
	ErrorWindow time.Duration
	// SendQueue bounds the messages queued for one socket; a client that
	// does not read is closed. 0 means DefaultSendQueue.
	SendQueue int
	// HashSegmentsPerSwarm and HashSegmentsTotal bound the hash store
	// (highest seqs kept per swarm; least recently used swarms evicted
	// beyond the total). 0 means the defaults.
	HashSegmentsPerSwarm int
	HashSegmentsTotal    int
	// MaxAssetLabels and MaxSiteLabels cap metric label values; further
	// assets or sites are counted as "other". 0 means the defaults.
	MaxAssetLabels int
	MaxSiteLabels  int
	// OffloadWindow is the sliding window of the offload ratio gauge. 0
	// means DefaultOffloadWindow.
	OffloadWindow time.Duration
	// DropQuorum is how many different client addresses (IPv4 address,
	// IPv6 /64) must report bad bytes from one uploader within
	// ReportWindow before the tracker drops it; reports from one address
	// alone, over any number of sockets, never drop anyone. 0 means
	// DefaultDropQuorum (2); at most 8. 1 drops on the first report (then
	// one address can empty a group: only for trusted networks).
	DropQuorum int
	// ReportWindow is how long a bad report waits for reports from other
	// addresses about the same uploader. 0 means DefaultReportWindow.
	ReportWindow time.Duration
	// ReportBurst and ReportRate are each address's budget of bad reports
	// (token bucket: size, tokens per second). A report that reaches the
	// quorum gives its tokens back, so only uncorroborated reports spend
	// it; an address with no token left is a suspect: its reports are
	// ignored and its sockets are listed last as sources. 0 means
	// DefaultReportBurst / DefaultReportRate.
	ReportBurst int
	ReportRate  float64
	// KnownSwarm reports whether this edge serves a swarm; join of an
	// unknown one gets error unknown_swarm. nil accepts every valid id.
	KnownSwarm func(swarm string) bool
	// Admit decides whether the socket opened by upgrade request r may
	// join swarm: the same playback authorisation the viewer's HTTP
	// requests for that media need (a token in the request's path, its
	// client address). A non-nil error answers error forbidden and closes
	// the socket. nil admits every join (a tracker without private media).
	Admit func(r *http.Request, swarm string) error
	// ClientAddr overrides how the client address is found (tests use it
	// to simulate many networks on loopback). nil means r.RemoteAddr, or
	// with TrustProxy the right-most X-Forwarded-For entry.
	ClientAddr func(r *http.Request) netip.Addr
	// TrustProxy trusts X-Forwarded-For (set only behind a proxy that
	// overwrites it).
	TrustProxy bool
	// OriginPatterns are extra allowed browser origins for the WebSocket
	// (host patterns, see coder/websocket). The request host is always
	// allowed; clients without an Origin header (Go peers) are allowed.
	OriginPatterns []string
	// Logger receives logs. nil discards.
	Logger *slog.Logger
	// Registerer registers the metrics. nil means a private registry (the
	// metrics exist but are not exported).
	Registerer prometheus.Registerer
	// Now returns the current time. nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with every default spelled out.
func DefaultConfig() Config {
	return Config{
		DefaultPolicy:          wire.PolicyOn,
		MaxPeers:               DefaultMaxPeers,
		Window:                 DefaultWindow,
		SpikeWindow:            DefaultSpikeWindow,
		HTTPMarginS:            DefaultHTTPMarginS,
		SpikeSwarmSize:         DefaultSpikeSwarmSize,
		SpikeEgressBytesPerSec: DefaultSpikeEgressBytesPerSec,
		SpikeCalm:              DefaultSpikeCalm,
		FetchTimeout:           DefaultFetchTimeout,
		IdleTimeout:            DefaultIdleTimeout,
		WriteTimeout:           DefaultWriteTimeout,
		MsgRate:                DefaultMsgRate,
		MsgBurst:               DefaultMsgBurst,
		MaxConnsPerAddr:        DefaultMaxConnsPerAddr,
		ConnectRate:            DefaultConnectRate,
		ConnectBurst:           DefaultConnectBurst,
		MaxErrors:              DefaultMaxErrors,
		ErrorWindow:            DefaultErrorWindow,
		SendQueue:              DefaultSendQueue,
		HashSegmentsPerSwarm:   DefaultHashSegmentsPerSwarm,
		HashSegmentsTotal:      DefaultHashSegmentsTotal,
		MaxAssetLabels:         DefaultMaxAssetLabels,
		MaxSiteLabels:          DefaultMaxSiteLabels,
		OffloadWindow:          DefaultOffloadWindow,
		DropQuorum:             DefaultDropQuorum,
		ReportWindow:           DefaultReportWindow,
		ReportBurst:            DefaultReportBurst,
		ReportRate:             DefaultReportRate,
	}
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.DefaultPolicy = cmp.Or(c.DefaultPolicy, d.DefaultPolicy)
	c.MaxPeers = cmp.Or(c.MaxPeers, d.MaxPeers)
	c.Window = cmp.Or(c.Window, d.Window)
	c.SpikeWindow = cmp.Or(c.SpikeWindow, d.SpikeWindow)
	c.HTTPMarginS = cmp.Or(c.HTTPMarginS, d.HTTPMarginS)
	c.SpikeSwarmSize = cmp.Or(c.SpikeSwarmSize, d.SpikeSwarmSize)                         // negative: off
	c.SpikeEgressBytesPerSec = cmp.Or(c.SpikeEgressBytesPerSec, d.SpikeEgressBytesPerSec) // negative: off
	c.SpikeCalm = cmp.Or(c.SpikeCalm, d.SpikeCalm)
	c.FetchTimeout = cmp.Or(c.FetchTimeout, d.FetchTimeout)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, d.IdleTimeout)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, d.WriteTimeout)
	c.MsgRate = cmp.Or(c.MsgRate, d.MsgRate)
	c.MsgBurst = cmp.Or(c.MsgBurst, d.MsgBurst)
	c.MaxConnsPerAddr = cmp.Or(c.MaxConnsPerAddr, d.MaxConnsPerAddr) // negative: no cap
	c.ConnectRate = cmp.Or(c.ConnectRate, d.ConnectRate)             // negative: no connect rate limit
	c.ConnectBurst = cmp.Or(c.ConnectBurst, d.ConnectBurst)
	c.MaxErrors = cmp.Or(c.MaxErrors, d.MaxErrors)
	c.ErrorWindow = cmp.Or(c.ErrorWindow, d.ErrorWindow)
	c.SendQueue = cmp.Or(c.SendQueue, d.SendQueue)
	c.HashSegmentsPerSwarm = cmp.Or(c.HashSegmentsPerSwarm, d.HashSegmentsPerSwarm)
	c.HashSegmentsTotal = cmp.Or(c.HashSegmentsTotal, d.HashSegmentsTotal)
	c.MaxAssetLabels = cmp.Or(c.MaxAssetLabels, d.MaxAssetLabels)
	c.MaxSiteLabels = cmp.Or(c.MaxSiteLabels, d.MaxSiteLabels)
	c.OffloadWindow = cmp.Or(c.OffloadWindow, d.OffloadWindow)
	c.DropQuorum = cmp.Or(c.DropQuorum, d.DropQuorum)
	c.ReportWindow = cmp.Or(c.ReportWindow, d.ReportWindow)
	c.ReportBurst = cmp.Or(c.ReportBurst, d.ReportBurst)
	c.ReportRate = cmp.Or(c.ReportRate, d.ReportRate)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports the first invalid field, wrapped in ErrInvalidConfig.
// Zero fields are valid (they take defaults).
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.DefaultPolicy != "" && !c.DefaultPolicy.Valid():
		return bad("DefaultPolicy %q", c.DefaultPolicy)
	case c.MaxPeers < 0 || c.MaxPeers > 64:
		return bad("MaxPeers %d not in 0..64", c.MaxPeers)
	case !validWindow(c.Window) || !validWindow(c.SpikeWindow):
		return bad("windows must be [lo,hi] with 0 <= lo <= hi")
	case c.HTTPMarginS < 0:
		return bad("HTTPMarginS %v < 0", c.HTTPMarginS)
	case c.SpikeCalm < 0 || c.FetchTimeout < 0 || c.IdleTimeout < 0 || c.WriteTimeout < 0 ||
		c.ErrorWindow < 0 || c.OffloadWindow < 0:
		return bad("negative duration")
	case c.MsgRate < 0 || c.MsgBurst < 0 || c.ConnectBurst < 0 || c.MaxErrors < 0 || c.SendQueue < 0:
		return bad("negative rate limit")
	case c.HashSegmentsPerSwarm < 0 || c.HashSegmentsTotal < 0 || c.MaxAssetLabels < 0 || c.MaxSiteLabels < 0:
		return bad("negative bound")
	case c.DropQuorum < 0 || c.ReportWindow < 0 || c.ReportBurst < 0 || c.ReportRate < 0:
		return bad("negative report limit")
	case c.DropQuorum > maxAccusers:
		return bad("DropQuorum %d above %d", c.DropQuorum, maxAccusers)
	}
	return nil
}

func validWindow(w [2]float64) bool { return w[0] >= 0 && w[0] <= w[1] }
