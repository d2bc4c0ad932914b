package transport

import "errors"

// Sentinel errors. Package cluster re-exports the same values
// (cluster.ErrClosed == transport.ErrClosed), so errors.Is checks written
// against either name keep working; the texts keep the "cluster:" prefix
// they always had.
var (
	// ErrInvalidConfig is wrapped when a Config cannot be used.
	ErrInvalidConfig = errors.New("cluster: invalid config")
	// ErrClosed is returned by operations on a closed Transport.
	ErrClosed = errors.New("cluster: closed")
	// ErrNotStarted is returned by operations that need Listen first.
	ErrNotStarted = errors.New("cluster: not started")
)
