// Package vod turns a media library (an origin of progressive or
// fragmented MP4 files) into HTTP Live Streaming assets packaged just in
// time as CMAF: it indexes every file's sample table once (persisted in a
// bbolt file), cuts every rendition into key-frame-aligned segments on
// shared time boundaries, writes the HLS playlists, and packages the init
// section and any media segment on request by reading only that segment's
// sample bytes from the origin.
//
// A Library is safe for concurrent use: HTTP handlers read assets while
// Refresh re-indexes. Assets, renditions and segments are immutable once
// published; Refresh replaces them wholesale. See DESIGN.md for the
// segmentation rule, the rendition model and the index format.
package vod

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/node/origin"
)

// Errors returned by the library. They are wrapped with detail; match them
// with errors.Is.
var (
	// ErrNotFound means the asset, rendition or segment does not exist.
	ErrNotFound = errors.New("vod: not found")
	// ErrAssetFailed means the asset could not be indexed; the message
	// carries the asset's Reason.
	ErrAssetFailed = errors.New("vod: asset failed")
	// ErrOrigin means reading from the origin failed. The origin's own
	// error stays in the chain (origin.ErrUnavailable,
	// context.DeadlineExceeded, ...).
	ErrOrigin = errors.New("vod: origin error")
	// ErrStale means the source file changed since it was indexed. The
	// library schedules a re-index; the request should be retried after
	// it (the new asset has new cache keys).
	ErrStale = errors.New("vod: source changed since indexing")
	// ErrClosed means the library was closed.
	ErrClosed = errors.New("vod: library closed")
	// ErrConfig means the Config is invalid.
	ErrConfig = errors.New("vod: invalid config")
)

// Asset statuses.
const (
	StatusReady  = "ready"
	StatusFailed = "failed"
)

// Origin is what the library needs from a media library; origin.Dir and
// origin.HTTP satisfy it.
type Origin interface {
	List(ctx context.Context) ([]origin.AssetSpec, error)
	Open(ctx context.Context, path string) (origin.Object, error)
	String() string
}

// Config configures a Library.
type Config struct {
	// SegmentTarget is the target segment duration. Zero means 6 s.
	SegmentTarget time.Duration
	// IndexPath is the bbolt file holding the persisted sample index.
	// Empty keeps the index in memory only (rebuilt on every start).
	IndexPath string
	// Logger receives structured logs. Nil discards them.
	Logger *slog.Logger
	// Registerer receives the library's metrics. Nil means a private
	// registry (the metrics exist but are not exported).
	Registerer prometheus.Registerer
}

// DefaultSegmentTarget is the segment target used when Config.SegmentTarget
// is zero.
const DefaultSegmentTarget = 6 * time.Second

// DefaultConfig returns a Config with every default spelled out: a 6 s
// segment target and an in-memory index.
func DefaultConfig() Config {
	return Config{SegmentTarget: DefaultSegmentTarget}
}

// Validate reports the first problem with c, wrapping ErrConfig.
func (c Config) Validate() error {
	if c.SegmentTarget < 0 || (c.SegmentTarget > 0 && c.SegmentTarget < 100*time.Millisecond) || c.SegmentTarget > 10*time.Minute {
		return fmt.Errorf("%w: segment target %v: want between 100ms and 10m", ErrConfig, c.SegmentTarget)
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.SegmentTarget = cmp.Or(c.SegmentTarget, DefaultSegmentTarget)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
