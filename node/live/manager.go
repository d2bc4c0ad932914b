package live

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/classmesh/classmesh/node/origin"
)

// ErrLocal means Remote was asked for a session published on this node.
var ErrLocal = fmt.Errorf("live: session is published on this node: %w", ErrAlreadyPublishing)

// Manager holds the live sessions of a node: published ones (ingest) and
// remote ones (fed by the relay). Create it with NewManager and release it
// with Close.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	mu       sync.Mutex
	sessions map[string]*Session
	closed   bool
	timers   sync.WaitGroup // grace and linger timers that may still fire
	held     atomic.Int64   // requests held right now
}

// NewManager validates cfg and returns a Manager.
func NewManager(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m := &Manager{cfg: cfg, log: cfg.Logger, sessions: map[string]*Session{}}
	met, err := newMetrics(cfg.Registerer, m)
	if err != nil {
		return nil, err
	}
	m.metrics = met
	return m, nil
}

// afterFunc runs f after d unless the timer is stopped with stopTimer;
// Close waits for timers that fired.
func (m *Manager) afterFunc(d time.Duration, f func()) *time.Timer {
	m.timers.Add(1)
	return time.AfterFunc(d, func() {
		defer m.timers.Done()
		f()
	})
}

func (m *Manager) stopTimer(t *time.Timer) {
	if t != nil && t.Stop() {
		m.timers.Done()
	}
}

// Publish attaches a publisher to session id: a new session, or the same
// session continued when its previous publisher left less than
// Config.Grace ago (the tracks go on after a discontinuity and the
// recording keeps growing). An ended session still lingering is replaced
// by a new one. ErrAlreadyPublishing when a publisher is attached.
func (m *Manager) Publish(id string) (*Publication, error) {
	if !origin.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", ErrBadSessionID, id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if s, ok := m.sessions[id]; ok {
		if p, err := m.resume(s); p != nil || err != nil {
			return p, err
		}
	}
	s := newSession(m, id, false)
	s.pk = newPackager(m.cfg, s)
	if m.cfg.RecordDir != "" {
		rec, err := newRecorder(m.cfg.RecordDir, id)
		if err != nil {
			return nil, err
		}
		s.rec = rec
	}
	p := &Publication{s: s}
	s.pub = p
	m.sessions[id] = s
	m.log.Info("live: session started", "session", id)
	return p, nil
}

// resume re-attaches a publisher to s when it is waiting in its grace
// window; (nil, nil) means s has ended and a new session replaces it.
func (m *Manager) resume(s *Session) (*Publication, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.remote && s.state != stateEnded:
		return nil, fmt.Errorf("live: publish %s: %w", s.id, ErrRemote)
	case s.state == stateLive:
		return nil, fmt.Errorf("live: publish %s: %w", s.id, ErrAlreadyPublishing)
	case s.state == stateEnded:
		if s.linger != nil {
			m.stopTimer(s.linger)
		}
		return nil, nil
	}
	m.stopTimer(s.grace)
	s.grace = nil
	s.gen++
	s.state = stateLive
	s.pk.reconnect()
	p := &Publication{s: s}
	s.pub = p
	m.log.Info("live: publisher came back", "session", s.id)
	return p, nil
}

// graceExpired ends s if no publisher came back since the timer of
// generation gen was set.
func (m *Manager) graceExpired(s *Session, gen int) {
	s.mu.Lock()
	stale := s.gen != gen || s.state != stateGrace
	s.mu.Unlock()
	if !stale {
		m.endSession(s, "grace expired")
	}
}

// Lookup returns a session by ID, live or recently ended.
func (m *Manager) Lookup(id string) (*Session, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	return s, ok
}

// Sessions returns every known session, sorted by ID.
func (m *Manager) Sessions() []*Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Session) int {
		if a.id < b.id {
			return -1
		}
		if a.id > b.id {
			return 1
		}
		return 0
	})
	return out
}

// Remote returns the relay-fed session id, creating it. Its tracks are
// added with Session.AddTrack and fed with PutInit and PutPart; Manager.End
// ends it. ErrLocal when the session is published on this node.
func (m *Manager) Remote(id string) (*Session, error) {
	if !origin.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", ErrBadSessionID, id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if s, ok := m.sessions[id]; ok {
		s.mu.Lock()
		remote, ended, linger := s.remote, s.state == stateEnded, s.linger
		s.mu.Unlock()
		switch {
		case remote && !ended:
			return s, nil
		case !ended:
			return nil, ErrLocal
		}
		m.stopTimer(linger)
	}
	s := newSession(m, id, true)
	m.sessions[id] = s
	return s, nil
}

// End ends session id now: publisher detached, tracks ended (EXT-X-
// ENDLIST), recording finished and Config.OnEnd called (published
// sessions). The session stays served for Config.Linger. Ending an ended
// session does nothing.
func (m *Manager) End(id string) error {
	s, ok := m.Lookup(id)
	if !ok {
		return fmt.Errorf("live: session %q: %w", id, ErrNotFound)
	}
	m.endSession(s, "ended")
	return nil
}

// Remove forgets session id at once (ending it first when needed), for
// example when an edge's last viewer left a relayed session.
func (m *Manager) Remove(id string) {
	s, ok := m.Lookup(id)
	if !ok {
		return
	}
	m.endSession(s, "removed")
	s.mu.Lock()
	m.stopTimer(s.linger)
	s.linger = nil
	s.mu.Unlock()
	m.forget(s)
}

// forget drops s from the session map if it is still the one under its ID.
func (m *Manager) forget(s *Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sessions[s.id] == s {
		delete(m.sessions, s.id)
		m.metrics.forget(s.id)
	}
}

// endSession ends s once and calls OnEnd outside every lock.
func (m *Manager) endSession(s *Session, why string) {
	s.mu.Lock()
	if s.state == stateEnded {
		s.mu.Unlock()
		return
	}
	if s.pub != nil {
		s.pub.closed = true
		s.pub = nil
		s.pk.finish()
	}
	m.stopTimer(s.grace)
	s.grace = nil
	s.state = stateEnded
	for _, t := range s.tracks {
		t.End()
	}
	close(s.done)
	s.notifyLocked()
	var rec Recording
	if s.rec != nil {
		rec = s.rec.finish()
	}
	rec.Start, rec.End = s.started, m.cfg.Now()
	s.linger = m.afterFunc(m.cfg.Linger, func() { m.forget(s) })
	s.mu.Unlock()
	m.log.Info("live: session ended", "session", s.id, "why", why, "recording", rec.Dir, "duration", rec.Duration, "err", rec.Err)
	if !s.remote && m.cfg.OnEnd != nil {
		m.cfg.OnEnd(s.id, rec)
	}
}

// Close ends every session (calling OnEnd for published ones), forgets
// them and waits for pending timers. Publish and Remote fail afterwards.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	for _, s := range m.Sessions() {
		m.endSession(s, "shutdown")
		s.mu.Lock()
		m.stopTimer(s.linger)
		s.linger = nil
		s.mu.Unlock()
		m.forget(s)
	}
	m.timers.Wait()
	return nil
}
