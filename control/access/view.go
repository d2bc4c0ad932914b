package access

import (
	"log/slog"
	"sync"

	"github.com/classmesh/classmesh/control"
)

// Catalog is the part of the local replica (*control.Store) a View
// reads.
type Catalog interface {
	AppliedIndex() uint64
	Courses() ([]control.Course, error)
	Lessons() ([]control.Lesson, error)
	Assets() ([]control.Asset, error)
	Sessions() ([]control.LiveSession, error)
	SigningKeys() ([]control.SigningKey, error)
}

var _ Catalog = (*control.Store)(nil)

// Read reads the Snapshot a Policy needs from the replica, at its
// applied index. Writes applied while it reads may be included; the next
// read, at the next index, has them all.
func Read(c Catalog) (Snapshot, error) {
	s := Snapshot{Index: c.AppliedIndex()}
	var err error
	if s.Courses, err = c.Courses(); err != nil {
		return s, err
	}
	if s.Lessons, err = c.Lessons(); err != nil {
		return s, err
	}
	if s.Assets, err = c.Assets(); err != nil {
		return s, err
	}
	if s.Sessions, err = c.Sessions(); err != nil {
		return s, err
	}
	if s.Keys, err = c.SigningKeys(); err != nil {
		return s, err
	}
	return s, nil
}

// View is the access policy of a replica, kept current: Policy rebuilds
// it when the replica's applied index has moved since the last build.
//
// Invariants: once a policy was built, a catalog that cannot be read
// leaves the last one in force; before any, Policy returns a closed one
// that refuses every read (503) rather than serve private media.
type View struct {
	cat Catalog
	log *slog.Logger

	mu     sync.Mutex
	policy *Policy
}

// NewView returns the view of cat. A nil logger discards logs.
func NewView(cat Catalog, logger *slog.Logger) *View {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &View{cat: cat, log: logger}
}

// Policy returns the policy at the replica's applied index.
func (v *View) Policy() *Policy {
	idx := v.cat.AppliedIndex()
	v.mu.Lock()
	defer v.mu.Unlock()
	if p := v.policy; p != nil && p.Index() == idx {
		return p
	}
	s, err := Read(v.cat)
	if err != nil {
		v.log.Warn("access: cannot read the catalog for playback access", "err", err)
		if v.policy != nil {
			return v.policy
		}
		return New(Snapshot{}, Options{Closed: true})
	}
	v.policy = New(s, Options{})
	return v.policy
}
