package viewers

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults.
const (
	DefaultBufferTarget = 30 * time.Second
	DefaultStoreBytes   = 24 << 20
	DefaultParallel     = 2
	DefaultPeerParallel = 4
	maxJoinSpread       = 20 * time.Second
)

// ErrBadConfig is wrapped by Config.Validate errors.
var ErrBadConfig = errors.New("swarm: bad config")

// Config configures a Run.
type Config struct {
	// URL is a multivariant (master) or media playlist on an edge.
	URL string
	// Peers is the number of emulated viewers (at least 1).
	Peers int
	// Duration bounds the run (at least 1 s).
	Duration time.Duration
	// DownlinkBitsPerSec and UplinkBitsPerSec cap each viewer's transfers
	// (HTTP and data channels). 0 means unlimited.
	DownlinkBitsPerSec, UplinkBitsPerSec int64
	// Rendition picks the variant by name (its directory, e.g. "720p").
	// "" means the highest bandwidth within the downlink cap (the lowest
	// when none fits), or the highest without a cap.
	Rendition string
	// P2P joins the tracker. false: HTTP only, for comparison.
	P2P bool
	// Malicious makes the first Malicious viewers corrupt every segment
	// they serve.
	Malicious int
	// TrackerURL overrides ws(s)://{host of URL}/p2p/ws.
	TrackerURL string
	// BufferTarget is how far ahead of the playhead a viewer fetches. 0
	// means DefaultBufferTarget.
	BufferTarget time.Duration
	// StoreBytes bounds each viewer's segment memory. 0 means
	// DefaultStoreBytes.
	StoreBytes int64
	// Parallel bounds a viewer's urgent fetches (HTTP: startup, segments
	// nearer than the tracker's p2p window, P2P off). 0 means
	// DefaultParallel.
	Parallel int
	// PeerParallel bounds a viewer's fetches of segments inside the p2p
	// window, which wait for neighbors to hold them (the tracker's fetchers
	// take them over HTTP first). 0 means DefaultPeerParallel.
	PeerParallel int
	// JoinSpread spreads the viewers' start over this long (viewers arrive
	// over time, and a burst of joins is not what is measured). 0 means
	// 100 ms per viewer, at most 20 s; negative starts everyone at once.
	JoinSpread time.Duration
	// HTTPClient is shared by every viewer. nil means a client with a
	// connection pool sized for Peers.
	HTTPClient *http.Client
	// Logger receives diagnostics. nil discards.
	Logger *slog.Logger
}

// Validate checks c.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%w: --url must be an http(s) playlist URL", ErrBadConfig)
	case c.Peers < 1:
		return fmt.Errorf("%w: peers must be at least 1", ErrBadConfig)
	case c.Duration < time.Second:
		return fmt.Errorf("%w: duration must be at least 1s", ErrBadConfig)
	case c.DownlinkBitsPerSec < 0 || c.UplinkBitsPerSec < 0:
		return fmt.Errorf("%w: negative rate", ErrBadConfig)
	case c.Malicious < 0 || c.Malicious > c.Peers:
		return fmt.Errorf("%w: malicious must be within 0..peers", ErrBadConfig)
	case c.BufferTarget < 0 || c.StoreBytes < 0 || c.Parallel < 0 || c.PeerParallel < 0:
		return fmt.Errorf("%w: negative buffer, store or parallel", ErrBadConfig)
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.BufferTarget = cmp.Or(c.BufferTarget, DefaultBufferTarget)
	c.StoreBytes = cmp.Or(c.StoreBytes, DefaultStoreBytes)
	c.Parallel = cmp.Or(c.Parallel, DefaultParallel)
	c.PeerParallel = cmp.Or(c.PeerParallel, DefaultPeerParallel)
	c.JoinSpread = cmp.Or(c.JoinSpread, min(time.Duration(c.Peers)*100*time.Millisecond, maxJoinSpread)) // negative: everyone joins at once
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = c.Peers*c.Parallel + 16
		tr.MaxIdleConns = tr.MaxIdleConnsPerHost
		tr.DisableCompression = false
		c.HTTPClient = &http.Client{Transport: tr}
	}
	if c.TrackerURL == "" {
		if u, err := url.Parse(c.URL); err == nil {
			scheme := "ws"
			if u.Scheme == "https" {
				scheme = "wss"
			}
			c.TrackerURL = scheme + "://" + u.Host + "/p2p/ws"
		}
	}
	return c
}

// ParseRate parses a bit rate such as "5mbit", "500kbit", "2.5Mbps",
// "1gbit" or a plain number of bits per second. "" and "0" mean 0
// (unlimited).
func ParseRate(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, nil
	}
	mult := 1.0
	for _, u := range []struct {
		suffix string
		mult   float64
	}{
		{"gbit", 1e9}, {"gbps", 1e9}, {"mbit", 1e6}, {"mbps", 1e6}, {"kbit", 1e3}, {"kbps", 1e3},
		{"bit", 1}, {"bps", 1}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3},
	} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v*mult > 1e12 {
		return 0, fmt.Errorf("swarm: bad rate %q (use e.g. 5mbit, 500kbit)", s)
	}
	return int64(v * mult), nil
}
