package relay

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Relay defaults.
const (
	DefaultRelayDeliveryTimeout = 3 * time.Second
	DefaultRelayCacheGroups     = 3
	DefaultRelayCacheBytes      = 64 << 20
	DefaultRelayMaxPayload      = 16 << 20
	DefaultRelayConnectTimeout  = 5 * time.Second
	// RelayMaxHeader bounds Object.Header.
	RelayMaxHeader = 4096
	// RelayMaxTrack bounds a track name (bytes of printable UTF-8).
	RelayMaxTrack = 256
)

// Relay errors.
var (
	// ErrTrackExists: Publish of a track this node already publishes.
	ErrTrackExists = errors.New("cluster: relay track already published")
	// ErrTrackNotFound: no node on the way publishes the track.
	ErrTrackNotFound = errors.New("cluster: relay track not found")
	// ErrTrackEnded: the publisher closed the track. Subscriptions return
	// it from Next after the last object.
	ErrTrackEnded = errors.New("cluster: relay track ended")
	// ErrRelayRefused: the upstream refused the subscription (bad request,
	// relay loop, too many hops).
	ErrRelayRefused = errors.New("cluster: relay subscription refused")
	// ErrRelayUpstream: the upstream could not be reached, broke (connection
	// lost, malformed data) or is shutting down; subscribe again to resume.
	ErrRelayUpstream = errors.New("cluster: relay upstream lost")
	// ErrBadRelayConfig is wrapped by RelayConfig.Validate errors.
	ErrBadRelayConfig = errors.New("cluster: bad relay config")
)

// Object is one unit of a track: a part of a segment (Group) or, with Init
// set, the track's initialisation data.
type Object struct {
	Track string
	// Group increases along a track (one per segment); ID increases
	// within a group (one per part). Both are ignored for Init objects.
	Group, ID uint64
	// Header (at most RelayMaxHeader bytes) and Payload are opaque.
	Header, Payload []byte
	// Init marks the track's init data (Payload); the relay keeps the
	// latest one and sends it before the objects that follow it.
	Init bool
	// Created is when the object was produced at the origin (zero =
	// unknown); it feeds the object age histogram.
	Created time.Time
}

// RelayConfig configures a Relay. Zero values mean the defaults.
type RelayConfig struct {
	// DeliveryTimeout bounds how long an object may wait for one
	// subscriber (since it arrived here, or since the subscriber joined
	// if later). A group whose next object waited longer is cancelled for
	// that subscriber, which skips to the newest group. 0 means 3 s.
	DeliveryTimeout time.Duration
	// CacheGroups is how many groups per track are kept in memory for
	// late joiners and slow subscribers. 0 means 3; at least 2.
	CacheGroups int
	// CacheBytes bounds the cached bytes per track. 0 means 64 MiB.
	CacheBytes int64
	// MaxPayload bounds an object payload and the init data, published or
	// received. Use the same value on every node. 0 means 16 MiB.
	MaxPayload int
	// ConnectTimeout bounds subscribing upstream (dial and answer). 0
	// means 5 s.
	ConnectTimeout time.Duration
	// Logger receives diagnostics; nil discards.
	Logger *slog.Logger
	// Registerer receives the classmesh_relay_* metrics; nil means a
	// private registry.
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultRelayConfig returns a RelayConfig with every default spelled out.
func DefaultRelayConfig() RelayConfig {
	return RelayConfig{
		DeliveryTimeout: DefaultRelayDeliveryTimeout,
		CacheGroups:     DefaultRelayCacheGroups,
		CacheBytes:      DefaultRelayCacheBytes,
		MaxPayload:      DefaultRelayMaxPayload,
		ConnectTimeout:  DefaultRelayConnectTimeout,
	}
}

// Validate reports whether the configuration is usable.
func (c RelayConfig) Validate() error {
	switch {
	case c.DeliveryTimeout < 0, c.ConnectTimeout < 0:
		return fmt.Errorf("%w: negative timeout", ErrBadRelayConfig)
	case c.CacheGroups < 0 || c.CacheGroups == 1:
		return fmt.Errorf("%w: CacheGroups must be 0 (default) or at least 2", ErrBadRelayConfig)
	case c.CacheBytes < 0:
		return fmt.Errorf("%w: negative CacheBytes", ErrBadRelayConfig)
	case c.MaxPayload < 0 || c.MaxPayload > 1<<30:
		return fmt.Errorf("%w: MaxPayload out of range", ErrBadRelayConfig)
	}
	return nil
}

func (c RelayConfig) withDefaults() RelayConfig {
	d := DefaultRelayConfig()
	c.DeliveryTimeout = cmp.Or(c.DeliveryTimeout, d.DeliveryTimeout)
	c.CacheGroups = cmp.Or(c.CacheGroups, d.CacheGroups)
	c.CacheBytes = cmp.Or(c.CacheBytes, d.CacheBytes)
	c.MaxPayload = cmp.Or(c.MaxPayload, d.MaxPayload)
	c.ConnectTimeout = cmp.Or(c.ConnectTimeout, d.ConnectTimeout)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
