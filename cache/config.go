package cache

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied to zero Config fields.
const (
	DefaultMemoryBytes     int64 = 256 << 20
	DefaultDiskBytes       int64 = 10 << 30
	DefaultMaxObjectBytes  int64 = 64 << 20
	DefaultPromoteMaxBytes int64 = 4 << 20
	DefaultFillTimeout           = 60 * time.Second
	DefaultFillSource            = "origin"
)

// Sentinel errors. Errors returned by the package wrap one of these.
var (
	// ErrFillFailed wraps every fill failure; the fill's own error is
	// wrapped as well, so errors.Is works for both.
	ErrFillFailed = errors.New("cache: fill failed")
	// ErrSizeMismatch means the fill wrote a different number of bytes
	// than the size passed to Get. It is wrapped with ErrFillFailed.
	ErrSizeMismatch = errors.New("cache: fill size mismatch")
	// ErrTooLarge means the object exceeds Config.MaxObjectBytes.
	ErrTooLarge = errors.New("cache: object too large")
	// ErrNotCached is returned by Get with a nil fill on a miss.
	ErrNotCached = errors.New("cache: not cached")
	// ErrClosed is returned by Get after Close.
	ErrClosed = errors.New("cache: closed")
	// ErrChecksum means a disk body did not match its recorded SHA-256.
	ErrChecksum = errors.New("cache: checksum mismatch")
	// errPanic marks a fill that panicked (wrapped with ErrFillFailed).
	errPanic = errors.New("cache: fill panicked")
	// ErrInvalidConfig wraps every Validate failure.
	ErrInvalidConfig = errors.New("cache: invalid config")
)

// Config configures a Cache. The zero value is valid: a 256 MiB memory
// tier and no disk tier.
type Config struct {
	// MemoryBytes is the memory tier's budget. 0 means DefaultMemoryBytes;
	// a negative value turns the memory tier off.
	MemoryBytes int64
	// Dir is the disk tier's directory, created if missing. "" means no
	// disk tier.
	Dir string
	// DiskBytes is the disk tier's budget. 0 means DefaultDiskBytes.
	DiskBytes int64
	// MaxObjectBytes bounds one object; a Get whose size (or fill) exceeds
	// it fails with ErrTooLarge. 0 means DefaultMaxObjectBytes.
	MaxObjectBytes int64
	// PromoteMaxBytes is the largest disk object copied into the memory
	// tier once it is hot. 0 means DefaultPromoteMaxBytes; negative means
	// never promote.
	PromoteMaxBytes int64
	// FillTimeout bounds one fill, independent of the requests waiting for
	// it. 0 means DefaultFillTimeout.
	FillTimeout time.Duration
	// FillSource is the default source label of classmesh_cache_fills_total.
	// "" means DefaultFillSource ("origin"); Get may override it.
	FillSource string
	// Logger receives warnings (corrupt bodies, failed disk writes). nil
	// discards.
	Logger *slog.Logger
	// Registerer registers the cache's metrics. nil means a private
	// registry (the metrics exist but are not exported).
	Registerer prometheus.Registerer
	// Now returns the current time. nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with every default spelled out and no disk
// tier.
func DefaultConfig() Config {
	return Config{
		MemoryBytes:     DefaultMemoryBytes,
		DiskBytes:       DefaultDiskBytes,
		MaxObjectBytes:  DefaultMaxObjectBytes,
		PromoteMaxBytes: DefaultPromoteMaxBytes,
		FillTimeout:     DefaultFillTimeout,
		FillSource:      DefaultFillSource,
	}
}

// Validate reports whether c is usable.
func (c Config) Validate() error {
	switch {
	case c.DiskBytes < 0:
		return fmt.Errorf("%w: DiskBytes %d is negative", ErrInvalidConfig, c.DiskBytes)
	case c.MaxObjectBytes < 0:
		return fmt.Errorf("%w: MaxObjectBytes %d is negative", ErrInvalidConfig, c.MaxObjectBytes)
	case c.FillTimeout < 0:
		return fmt.Errorf("%w: FillTimeout %v is negative", ErrInvalidConfig, c.FillTimeout)
	}
	return nil
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	c.MemoryBytes = cmp.Or(c.MemoryBytes, DefaultMemoryBytes) // negative: no memory tier
	c.DiskBytes = cmp.Or(c.DiskBytes, DefaultDiskBytes)
	c.MaxObjectBytes = cmp.Or(c.MaxObjectBytes, DefaultMaxObjectBytes)
	c.PromoteMaxBytes = cmp.Or(c.PromoteMaxBytes, DefaultPromoteMaxBytes) // negative: never promote
	c.FillTimeout = cmp.Or(c.FillTimeout, DefaultFillTimeout)
	c.FillSource = cmp.Or(c.FillSource, DefaultFillSource)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
