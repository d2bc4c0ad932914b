package peer

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Defaults.
const (
	DefaultStoreBytes      int64 = 64 << 20
	DefaultMaxSegmentBytes int64 = 64 << 20
	DefaultConnectTimeout        = 15 * time.Second
	DefaultWantTimeout           = 3 * time.Second
	DefaultTrackerRate           = 18 // messages per second sent to the tracker (it allows 20)
	DefaultTrackerBurst          = 36
	DefaultReconnectMax          = 30 * time.Second
)

// Errors.
var (
	// ErrBadConfig is wrapped by Config.Validate errors.
	ErrBadConfig = errors.New("peer: bad config")
	// ErrClosed is returned by calls on a closed Peer.
	ErrClosed = errors.New("peer: closed")
	// ErrHTTPStatus wraps a non-200 HTTP answer.
	ErrHTTPStatus = errors.New("peer: unexpected HTTP status")
	// ErrTooLarge means a segment exceeded Config.MaxSegmentBytes.
	ErrTooLarge = errors.New("peer: segment too large")
	// ErrTracker means the tracker refused the join or closed the socket.
	ErrTracker = errors.New("peer: tracker")
)

// Config configures a Peer.
type Config struct {
	// TrackerURL is the tracker WebSocket, e.g. ws://edge:8080/p2p/ws.
	// Empty means no tracker: every segment comes over HTTP (P2P off);
	// rate caps still apply.
	TrackerURL string
	// MediaURL is the media playlist URL. The swarm id is derived from it
	// (wire.ParseSwarm) unless Swarm is set; hashes.json and segments named
	// by tracker "fetch" pushes (seg-N.m4s) are resolved against it.
	// Required with TrackerURL.
	MediaURL string
	// Swarm overrides the swarm id derived from MediaURL.
	Swarm string
	// Upload serves held segments to neighbors (join upload:true). false:
	// download only.
	Upload bool
	// Malicious flips every byte of every segment this peer serves (sizes
	// stay right, hashes do not). For integrity tests only.
	Malicious bool
	// DownlinkBitsPerSec caps the bytes received over HTTP and data
	// channels together. 0 means unlimited.
	DownlinkBitsPerSec int64
	// UplinkBitsPerSec caps the bytes served to neighbors. 0 means
	// unlimited.
	UplinkBitsPerSec int64
	// StoreBytes bounds the memory held for segments (the oldest segment
	// numbers are evicted first). 0 means DefaultStoreBytes.
	StoreBytes int64
	// MaxSegmentBytes bounds one segment from HTTP or a peer. 0 means
	// DefaultMaxSegmentBytes.
	MaxSegmentBytes int64
	// ConnectTimeout bounds establishing a data channel to a neighbor. 0
	// means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// WantTimeout bounds the wait for the tracker's answer to want. 0
	// means DefaultWantTimeout.
	WantTimeout time.Duration
	// ReconnectMax caps the wait between attempts to rejoin the tracker
	// after the socket dropped (waits start at 1 s and double, with
	// jitter). 0 means DefaultReconnectMax; negative never reconnects
	// (HTTP only once the tracker is gone).
	ReconnectMax time.Duration
	// Interner shares identical segment bytes between the peers of one
	// process (emulated viewers). nil: every peer keeps its own copy.
	Interner *Interner
	// API builds the peer connections; share one between many peers to
	// save CPU. nil means NewAPI(APIConfig{}).
	API *webrtc.API
	// HTTPClient fetches segments, hash lists and dials the tracker. nil
	// means http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives diagnostics. nil discards.
	Logger *slog.Logger
	// Now is the clock. nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with every default spelled out (and
// Upload on); TrackerURL and MediaURL remain to be set.
func DefaultConfig() Config {
	return Config{
		Upload:          true,
		StoreBytes:      DefaultStoreBytes,
		MaxSegmentBytes: DefaultMaxSegmentBytes,
		ConnectTimeout:  DefaultConnectTimeout,
		WantTimeout:     DefaultWantTimeout,
		ReconnectMax:    DefaultReconnectMax,
	}
}

// Validate checks c without changing it.
func (c Config) Validate() error {
	switch {
	case c.StoreBytes < 0, c.MaxSegmentBytes < 0, c.DownlinkBitsPerSec < 0, c.UplinkBitsPerSec < 0:
		return fmt.Errorf("%w: negative size or rate", ErrBadConfig)
	case c.ConnectTimeout < 0, c.WantTimeout < 0:
		return fmt.Errorf("%w: negative timeout", ErrBadConfig)
	case c.MaxSegmentBytes > wire.MaxSegmentBytes:
		return fmt.Errorf("%w: MaxSegmentBytes above %d", ErrBadConfig, wire.MaxSegmentBytes)
	}
	if c.TrackerURL == "" {
		return nil
	}
	u, err := url.Parse(c.TrackerURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%w: TrackerURL %q is not a ws(s) URL", ErrBadConfig, c.TrackerURL)
	}
	if _, err := url.Parse(c.MediaURL); err != nil || c.MediaURL == "" {
		return fmt.Errorf("%w: MediaURL is required with TrackerURL", ErrBadConfig)
	}
	if c.Swarm != "" && !wire.ValidSwarm(c.Swarm) {
		return fmt.Errorf("%w: invalid swarm %q", ErrBadConfig, c.Swarm)
	}
	if _, ok := wire.ParseSwarm(c.MediaURL); c.Swarm == "" && !ok {
		return fmt.Errorf("%w: no swarm id in MediaURL %q", ErrBadConfig, c.MediaURL)
	}
	return nil
}

// withDefaults fills zero values.
func (c Config) withDefaults() Config {
	c.StoreBytes = cmp.Or(c.StoreBytes, DefaultStoreBytes)
	c.MaxSegmentBytes = cmp.Or(c.MaxSegmentBytes, DefaultMaxSegmentBytes)
	c.ConnectTimeout = cmp.Or(c.ConnectTimeout, DefaultConnectTimeout)
	c.WantTimeout = cmp.Or(c.WantTimeout, DefaultWantTimeout)
	c.ReconnectMax = cmp.Or(c.ReconnectMax, DefaultReconnectMax) // negative: never reconnect
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Swarm == "" {
		c.Swarm, _ = wire.ParseSwarm(c.MediaURL)
	}
	return c
}
