package remote

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultBlockSize     = 1 << 20
	DefaultCacheBlocks   = 4
	DefaultMaxConcurrent = 32
)

// ErrBadConfig is wrapped by Config.Validate errors.
var ErrBadConfig = errors.New("remote: bad remote origin config")

// Config configures an Origin (client) and a Server.
type Config struct {
	// Timeout bounds one request (LIST, STAT or one READ block), and on the
	// server the reading of a request and each write. 0 means 10 s.
	Timeout time.Duration
	// BlockSize (client) is the READ granularity of objects, at most
	// MaxRead. 0 means 1 MiB.
	BlockSize int
	// CacheBlocks (client) is how many blocks each open object keeps,
	// least recently used evicted first. 0 means 4.
	CacheBlocks int
	// MaxConcurrent (server) bounds requests served at once; beyond it the
	// server answers busy. 0 means 32.
	MaxConcurrent int
	// Logger receives diagnostics. nil discards.
	Logger *slog.Logger
	// Registerer (server) receives classmesh_remote_origin_requests_total.
	// nil means a private registry.
	Registerer prometheus.Registerer
}

// DefaultConfig returns a Config with every default spelled out.
func DefaultConfig() Config {
	return Config{
		Timeout:       DefaultTimeout,
		BlockSize:     DefaultBlockSize,
		CacheBlocks:   DefaultCacheBlocks,
		MaxConcurrent: DefaultMaxConcurrent,
	}
}

// Validate reports whether the configuration is usable.
func (c Config) Validate() error {
	switch {
	case c.Timeout < 0:
		return fmt.Errorf("%w: negative Timeout", ErrBadConfig)
	case c.BlockSize < 0 || c.BlockSize > MaxRead:
		return fmt.Errorf("%w: BlockSize out of [0, %d]", ErrBadConfig, MaxRead)
	case c.CacheBlocks < 0:
		return fmt.Errorf("%w: negative CacheBlocks", ErrBadConfig)
	case c.MaxConcurrent < 0:
		return fmt.Errorf("%w: negative MaxConcurrent", ErrBadConfig)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Timeout = cmp.Or(c.Timeout, d.Timeout)
	c.BlockSize = cmp.Or(c.BlockSize, d.BlockSize)
	c.CacheBlocks = cmp.Or(c.CacheBlocks, d.CacheBlocks)
	c.MaxConcurrent = cmp.Or(c.MaxConcurrent, d.MaxConcurrent)
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	return c
}
