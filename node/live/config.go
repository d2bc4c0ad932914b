package live

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Errors returned by the package. Match them with errors.Is.
var (
	// ErrConfig means a Config is invalid.
	ErrConfig = errors.New("live: invalid config")
	// ErrAlreadyPublishing means a publisher is live for the session.
	ErrAlreadyPublishing = errors.New("live: session already has a publisher")
	// ErrNotFound means the session, rendition, segment or part does not
	// exist (or no longer exists in the DVR window).
	ErrNotFound = errors.New("live: not found")
	// ErrEnded means the session or track has ended.
	ErrEnded = errors.New("live: ended")
	// ErrClosed means the publication or the manager was closed.
	ErrClosed = errors.New("live: closed")
	// ErrBadSessionID means a session ID is not usable as a URL segment
	// and a directory name.
	ErrBadSessionID = errors.New("live: bad session id")
	// ErrRemote means the session is fed by the relay on this node and
	// cannot be published to here.
	ErrRemote = errors.New("live: session is relayed to this node")
	// ErrCodec means a codec configuration or a frame cannot be packaged.
	ErrCodec = errors.New("live: unsupported or malformed media")
	// ErrBadHeader means a part header does not decode.
	ErrBadHeader = errors.New("live: bad part header")
)

// Defaults used for zero Config fields.
const (
	DefaultPartTarget    = 500 * time.Millisecond
	DefaultSegmentTarget = 2 * time.Second
	DefaultDVRWindow     = 60 * time.Second
	DefaultGrace         = 30 * time.Second
	DefaultLinger        = 2 * time.Minute
	DefaultMaxJump       = 5 * time.Second
	DefaultViewerWindow  = 10 * time.Second
)

// Config configures a Manager.
type Config struct {
	// PartTarget is the target duration of a CMAF part (EXT-X-PART-INF
	// PART-TARGET). Zero means 500 ms.
	PartTarget time.Duration
	// SegmentTarget is the target segment duration: a segment is cut at
	// the first key frame at least this long after its start, so a longer
	// GOP gives a longer segment. Zero means 2 s.
	SegmentTarget time.Duration
	// DVRWindow is how much media a track keeps for live viewers. Zero
	// means 60 s. It must be at least three segment targets.
	DVRWindow time.Duration
	// Grace is how long a session waits for its publisher to come back.
	// Zero means 30 s.
	Grace time.Duration
	// Linger is how long an ended session keeps being served (so players
	// see EXT-X-ENDLIST) before it is forgotten. Zero means 2 min.
	Linger time.Duration
	// MaxJump is the largest forward timestamp jump taken as continuous
	// media; a larger jump, or any backward jump, starts a new segment
	// with a discontinuity. Zero means 5 s.
	MaxJump time.Duration
	// ViewerWindow is how long a playlist requester counts as a viewer.
	// Zero means 10 s.
	ViewerWindow time.Duration
	// RecordDir is where recordings are written, one directory per
	// session (RecordDir/{session}/video.mp4, audio.mp4). Empty disables
	// recording.
	RecordDir string
	// OnEnd, when not nil, is called once when a published session ends,
	// with its recording (empty when recording is disabled). It runs on
	// the goroutine that ended the session and must not block for long.
	OnEnd func(sessionID string, rec Recording)
	// Logger receives structured logs. Nil discards them.
	Logger *slog.Logger
	// Registerer receives the metrics. Nil means a private registry (the
	// metrics exist but are not exported).
	Registerer prometheus.Registerer
	// Now is the wall clock (program date times, viewer counts). Nil
	// means time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with every default spelled out and
// recording disabled.
func DefaultConfig() Config {
	return Config{
		PartTarget: DefaultPartTarget, SegmentTarget: DefaultSegmentTarget,
		DVRWindow: DefaultDVRWindow, Grace: DefaultGrace, Linger: DefaultLinger,
		MaxJump: DefaultMaxJump, ViewerWindow: DefaultViewerWindow,
	}
}

// Validate reports the first problem with c, wrapping ErrConfig.
func (c Config) Validate() error {
	d := c.withDefaults()
	switch {
	case c.PartTarget < 0 || c.SegmentTarget < 0 || c.DVRWindow < 0 || c.Grace < 0 ||
		c.Linger < 0 || c.MaxJump < 0 || c.ViewerWindow < 0:
		return fmt.Errorf("%w: negative duration", ErrConfig)
	case d.PartTarget < 100*time.Millisecond || d.PartTarget > 5*time.Second:
		return fmt.Errorf("%w: part target %v: want 100ms..5s", ErrConfig, d.PartTarget)
	case d.SegmentTarget < d.PartTarget || d.SegmentTarget > time.Minute:
		return fmt.Errorf("%w: segment target %v: want part target..1m", ErrConfig, d.SegmentTarget)
	case d.DVRWindow < 3*d.SegmentTarget || d.DVRWindow > 6*time.Hour:
		return fmt.Errorf("%w: DVR window %v: want 3 segment targets..6h", ErrConfig, d.DVRWindow)
	case d.MaxJump < time.Second:
		return fmt.Errorf("%w: max jump %v: want at least 1s", ErrConfig, d.MaxJump)
	}
	return nil
}

func (c Config) withDefaults() Config {
	def := DefaultConfig()
	c.PartTarget = cmp.Or(c.PartTarget, def.PartTarget)
	c.SegmentTarget = cmp.Or(c.SegmentTarget, def.SegmentTarget)
	c.DVRWindow = cmp.Or(c.DVRWindow, def.DVRWindow)
	c.Grace = cmp.Or(c.Grace, def.Grace)
	c.Linger = cmp.Or(c.Linger, def.Linger)
	c.MaxJump = cmp.Or(c.MaxJump, def.MaxJump)
	c.ViewerWindow = cmp.Or(c.ViewerWindow, def.ViewerWindow)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
