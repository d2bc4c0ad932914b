package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/classmesh/classmesh/control"
)

// DefaultMaxBodyBytes bounds request bodies (413 beyond it).
const DefaultMaxBodyBytes = 1 << 20

// Errors.
var (
	// ErrBadConfig wraps configuration errors from Config.Validate.
	ErrBadConfig = errors.New("api: bad config")
	// ErrBadToken is returned by an Authenticator for a malformed, unknown
	// or otherwise unusable bearer token (401).
	ErrBadToken = errors.New("api: invalid bearer token")
	// ErrNoLinearizer is reported (503) for linearizable reads when the
	// Config has no Linearizer.
	ErrNoLinearizer = errors.New("api: linearizable reads are not available on this node")
)

// Writer applies catalog commands. The node passes a forwarder that sends the
// command to the leader and, for read-your-writes, waits until the local
// replica has applied the result; tests pass the *control.Store.
type Writer interface {
	Apply(ctx context.Context, cmd control.Command) (*control.Result, error)
}

// Reader is the part of *control.Store the API reads from.
type Reader interface {
	Get(k control.Kind, id string) (json.RawMessage, error)
	List(k control.Kind, keep func(json.RawMessage) bool) ([]json.RawMessage, error)
	History(k control.Kind, id string) ([]json.RawMessage, error)
	// AssetOwner returns the course that owns an asset ("" for none), or
	// a not-found error.
	AssetOwner(id string) (string, error)
}

// Linearizer makes the local replica current for a linearizable read: the
// node asks the leader for a read index and waits until it is applied here.
type Linearizer interface {
	Linearize(ctx context.Context) error
}

// Config configures the handler. Reader, Writer and Auth are required.
type Config struct {
	// Reader serves reads from the local replica. Required.
	Reader Reader
	// Writer applies writes (forwarding to the leader). Required.
	Writer Writer
	// Linearizer serves ?consistency=linearizable; nil answers such reads
	// with 503.
	Linearizer Linearizer
	// Auth identifies the caller of every request. Required; TokenAuth
	// checks bearer tokens against the catalog.
	Auth Authenticator
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock used for the "active" flag of signing keys; nil
	// means time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds request bodies. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// DefaultConfig returns a Config with defaults; the caller sets Reader,
// Writer, Auth and usually Linearizer.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: DefaultMaxBodyBytes, Now: time.Now}
}

// Validate checks the config and fills zero values with their defaults.
func (c *Config) Validate() error {
	switch {
	case c.Reader == nil:
		return fmt.Errorf("%w: Reader is required", ErrBadConfig)
	case c.Writer == nil:
		return fmt.Errorf("%w: Writer is required", ErrBadConfig)
	case c.Auth == nil:
		return fmt.Errorf("%w: Auth is required", ErrBadConfig)
	case c.MaxBodyBytes < 0:
		return fmt.Errorf("%w: MaxBodyBytes must not be negative", ErrBadConfig)
	}
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, DefaultMaxBodyBytes)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}
