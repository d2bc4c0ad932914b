package live

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"
)

// MaxFrameSize bounds one access unit or audio frame (16 MiB).
const MaxFrameSize = 16 << 20

// Rendition names.
const (
	RenditionVideo = "video"
	RenditionAudio = "audio"
)

// Session states.
const (
	stateLive  = iota // a publisher is attached (or, remote, fed by the relay)
	stateGrace        // the publisher left; waiting for it to come back
	stateEnded
)

// Session is one live class: a set of tracks and, on the ingest node, the
// packager, the recording and the publisher.
type Session struct {
	id     string
	m      *Manager
	remote bool

	mu      sync.Mutex
	tracks  map[string]*Track
	order   []string
	pk      *packager
	rec     *recorder
	pub     *Publication
	state   int
	gen     int // bumped on every publish, to tell stale grace timers
	grace   *time.Timer
	linger  *time.Timer
	started time.Time
	// changed is closed and replaced when a track is added or the
	// session ends (WaitTrack); done is closed when it ends (Done).
	changed chan struct{}
	done    chan struct{}

	viewers viewerSet
}

func newSession(m *Manager, id string, remote bool) *Session {
	return &Session{id: id, m: m, remote: remote, tracks: map[string]*Track{}, started: m.cfg.Now(),
		changed: make(chan struct{}), done: make(chan struct{})}
}

// Done returns a channel closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.done }

// notifyLocked wakes WaitTrack callers.
func (s *Session) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitTrack returns the track of a rendition, blocking until the session
// has it. It returns ErrEnded when the session ends first, or ctx's error.
func (s *Session) WaitTrack(ctx context.Context, rendition string) (*Track, error) {
	for {
		s.mu.Lock()
		t, ok := s.tracks[rendition]
		ended, ch := s.state == stateEnded, s.changed
		s.mu.Unlock()
		switch {
		case ok:
			return t, nil
		case ended:
			return nil, ErrEnded
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// ID returns the session ID.
func (s *Session) ID() string { return s.id }

// Remote reports whether the session is fed by the relay.
func (s *Session) Remote() bool { return s.remote }

// Track returns the track of a rendition ("video", "audio").
func (s *Session) Track(rendition string) (*Track, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tracks[rendition]
	return t, ok
}

// Tracks returns the session's tracks in creation order.
func (s *Session) Tracks() []*Track {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Track, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.tracks[n])
	}
	return out
}

// Ended reports whether the session has ended.
func (s *Session) Ended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateEnded
}

// Publishing reports whether a publisher is attached.
func (s *Session) Publishing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pub != nil
}

// AddTrack returns the track of a rendition of a remote session, creating
// it: the relay feeds it with PutInit and PutPart.
func (s *Session) AddTrack(rendition string) (*Track, error) {
	if rendition != RenditionVideo && rendition != RenditionAudio {
		return nil, fmt.Errorf("%w: rendition %q", ErrNotFound, rendition)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.remote {
		return nil, fmt.Errorf("live: session %s is published here: %w", s.id, ErrAlreadyPublishing)
	}
	if s.state == stateEnded {
		return nil, ErrEnded
	}
	return s.trackLocked(rendition), nil
}

// trackLocked returns the track of a rendition, creating it.
func (s *Session) trackLocked(name string) *Track {
	if t, ok := s.tracks[name]; ok {
		return t
	}
	cfg := s.m.cfg
	t := newTrack(name, trackConfig{dvr: cfg.DVRWindow, gapTimeout: 3 * cfg.PartTarget, now: cfg.Now})
	s.tracks[name] = t
	s.order = append(s.order, name)
	s.notifyLocked()
	return t
}

// putInit and putPart are the packager's sink (called with s.mu held).
func (s *Session) putInit(rendition string, init []byte) {
	if err := s.trackLocked(rendition).PutInit(init); err != nil {
		s.m.log.Warn("live: init segment refused", "session", s.id, "rendition", rendition, "err", err)
	}
}

func (s *Session) putPart(rendition string, p Part) {
	t := s.trackLocked(rendition)
	if err := t.PutPart(p); err != nil {
		s.m.log.Warn("live: part refused", "session", s.id, "rendition", rendition, "err", err)
		return
	}
	s.m.metrics.part(rendition)
	if s.rec != nil {
		s.rec.write(rendition, p, t.Init)
	}
}

// Publication is the stream interface node/rtmp drives for one publisher
// connection. Calls must come from one goroutine at a time. After Close,
// or after the session ended, every call fails (ErrClosed, ErrEnded).
type Publication struct {
	s *Session
	// closed is guarded by s.mu.
	closed bool
}

// Session returns the publication's session.
func (p *Publication) Session() *Session { return p.s }

// lock takes the session lock and checks that p may still publish.
func (p *Publication) lock() error {
	p.s.mu.Lock()
	switch {
	case p.s.state == stateEnded:
		p.s.mu.Unlock()
		return ErrEnded
	case p.closed:
		p.s.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// VideoConfig installs an H.264 AVCDecoderConfigurationRecord. A
// different configuration later (new resolution, reconnect) makes a new
// init segment and a discontinuity.
func (p *Publication) VideoConfig(avcC []byte) error {
	if err := p.lock(); err != nil {
		return err
	}
	defer p.s.mu.Unlock()
	return p.s.pk.video.configure(bytes.Clone(avcC))
}

// AudioConfig installs an AAC AudioSpecificConfig.
func (p *Publication) AudioConfig(asc []byte) error {
	if err := p.lock(); err != nil {
		return err
	}
	defer p.s.mu.Unlock()
	return p.s.pk.audio.configure(bytes.Clone(asc))
}

// Video takes one H.264 access unit (length-prefixed NAL units) with its
// decode time and composition offset in milliseconds.
func (p *Publication) Video(dts int64, cts int32, key bool, data []byte) error {
	if err := p.lock(); err != nil {
		return err
	}
	defer p.s.mu.Unlock()
	pk := p.s.pk
	switch {
	case pk.video.track == nil:
		return fmt.Errorf("%w: video frame before the video configuration", ErrCodec)
	case len(data) > MaxFrameSize:
		return fmt.Errorf("%w: video frame of %d bytes", ErrCodec, len(data))
	}
	p.s.m.metrics.ingest(p.s.id, len(data))
	pk.decide()
	if pk.audioLed {
		pk.video.dropped++
		return nil
	}
	out, jumped := pk.clock.mapTS(&pk.clock.video, &pk.clock.audio, dts, 0)
	pk.video.sample(out, cts, key, jumped, bytes.Clone(data))
	return nil
}

// Audio takes one raw AAC frame with its time in milliseconds.
func (p *Publication) Audio(pts int64, data []byte) error {
	if err := p.lock(); err != nil {
		return err
	}
	defer p.s.mu.Unlock()
	pk := p.s.pk
	switch {
	case pk.audio.track == nil:
		return fmt.Errorf("%w: audio frame before the audio configuration", ErrCodec)
	case len(data) > MaxFrameSize:
		return fmt.Errorf("%w: audio frame of %d bytes", ErrCodec, len(data))
	}
	p.s.m.metrics.ingest(p.s.id, len(data))
	pk.decide()
	out, jumped := pk.clock.mapTS(&pk.clock.audio, &pk.clock.video, pts, 500)
	pk.audio.frame(out, jumped, bytes.Clone(data))
	return nil
}

// Close detaches the publisher. The open segments are finished; the
// session waits Config.Grace for the publisher to come back before it
// ends. err is the reason the connection ended (nil for a clean unpublish)
// and is only logged. Close is idempotent.
func (p *Publication) Close(err error) {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	if s.pub != p || s.state == stateEnded {
		return
	}
	s.pub = nil
	s.pk.finish()
	s.state = stateGrace
	gen := s.gen
	s.grace = s.m.afterFunc(s.m.cfg.Grace, func() { s.m.graceExpired(s, gen) })
	s.m.log.Info("live: publisher left, waiting for it to come back", "session", s.id, "grace", s.m.cfg.Grace, "err", err)
}
