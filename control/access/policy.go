package access

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/playback"
)

// SessionPrefix starts a token scope that covers one live session and its
// recording. Catalog ids never contain ':', so it cannot name an asset.
const SessionPrefix = "session:"

// SessionScope returns the token scope covering live session id.
func SessionScope(id string) string { return SessionPrefix + id }

// PrivateLabel replaces the id of media that does not play freely in
// metric labels.
const PrivateLabel = "private"

// Reason codes of refusals that are not token failures (those use
// playback.Reason's codes: "malformed", "expired", "out_of_scope", ...).
const (
	// ReasonTokenRequired: the media belongs only to courses that are not
	// public and the request carries no token.
	ReasonTokenRequired = "token_required"
	// ReasonUnknownSession: the catalog has no such live session.
	ReasonUnknownSession = "unknown_session"
	// ReasonUnavailable: the Policy is Closed (the node could not read
	// its catalog yet); nothing is served rather than private media.
	ReasonUnavailable = "catalog_unavailable"
)

// ErrForbidden wraps every refusal returned by Decision.Err.
var ErrForbidden = errors.New("access: forbidden")

// Snapshot is the catalog state a Policy is built from.
type Snapshot struct {
	// Index is the applied raft index the snapshot was read at.
	Index    uint64
	Courses  []control.Course
	Lessons  []control.Lesson
	Assets   []control.Asset
	Sessions []control.LiveSession
	Keys     []control.SigningKey
}

// target is what a Policy knows about one asset or session.
type target struct {
	courses []string // sorted, no duplicates
	free    bool
	session string // the session a recording belongs to ("" for others)
}

// Policy answers access questions from one catalog snapshot. It is
// immutable and safe for concurrent use.
type Policy struct {
	index    uint64
	public   map[string]bool // course id → public
	assets   map[string]*target
	sessions map[string]*target
	keys     []playback.Key
	verifier playback.Verifier
	closed   bool
}

// Options tune a Policy; the zero value is the production setting.
type Options struct {
	// Now returns the current time for token expiry. nil means time.Now.
	Now func() time.Time
	// Leeway is the tolerated clock skew for tokens. Zero means none.
	Leeway time.Duration
	// Closed refuses every request with ReasonUnavailable (fail closed
	// when the catalog cannot be read). false is the normal Policy.
	Closed bool
}

// New builds the Policy of snapshot s.
func New(s Snapshot, o Options) *Policy {
	p := &Policy{
		index:    s.Index,
		public:   make(map[string]bool, len(s.Courses)),
		assets:   map[string]*target{},
		sessions: make(map[string]*target, len(s.Sessions)),
		closed:   o.Closed,
	}
	for _, c := range s.Courses {
		p.public[c.ID] = c.Visibility == control.VisibilityPublic
	}
	asset := func(id string) *target {
		t := p.assets[id]
		if t == nil {
			t = &target{}
			p.assets[id] = t
		}
		return t
	}
	for _, a := range s.Assets {
		t := asset(a.ID)
		if a.CourseID != "" {
			// The owner course; links by other courses below need
			// rights on it (control/api checkLink).
			t.courses = append(t.courses, a.CourseID)
		}
	}
	for _, l := range s.Lessons {
		if l.AssetID != "" && l.CourseID != "" {
			t := asset(l.AssetID)
			t.courses = append(t.courses, l.CourseID)
		}
	}
	for _, ls := range s.Sessions {
		p.sessions[ls.ID] = &target{courses: []string{ls.CourseID}, session: ls.ID}
		if ls.RecordingAssetID != "" {
			t := asset(ls.RecordingAssetID)
			t.courses = append(t.courses, ls.CourseID)
			t.session = ls.ID
		}
	}
	for _, t := range p.sessions {
		t.free = p.public[t.courses[0]]
	}
	for _, t := range p.assets {
		slices.Sort(t.courses)
		t.courses = slices.Compact(t.courses)
		t.free = len(t.courses) == 0
		for _, c := range t.courses {
			t.free = t.free || p.public[c]
		}
	}
	for _, k := range s.Keys {
		p.keys = append(p.keys, playback.Key{Kid: k.KID, Secret: []byte(k.Secret), NotBefore: k.NotBefore, NotAfter: k.NotAfter})
	}
	keys := p.keys
	p.verifier = playback.Verifier{Keys: func() []playback.Key { return keys }, Now: o.Now, Leeway: o.Leeway}
	return p
}

// Index returns the applied raft index the Policy was built at.
func (p *Policy) Index() uint64 { return p.index }

// Keys returns the signing keys of the snapshot (for signing tokens). The
// slice must not be modified.
func (p *Policy) Keys() []playback.Key { return p.keys }

// Request is one read of media: exactly one of Asset and Session is set.
type Request struct {
	Asset   string
	Session string
	// Token is the playback token the request carries, "" for none.
	Token string
	// Client is the client's address (for token subnets).
	Client netip.Addr
}

// Decision is the answer to a Request.
type Decision struct {
	Allow bool
	// Reason says why: "public" or "token" when allowed, a refusal code
	// otherwise (ReasonTokenRequired, ReasonUnknownSession or one of
	// playback.Reason's codes).
	Reason string
	// Detail is a sentence for the client and the log.
	Detail string
	// Public reports whether the media plays freely (metric labels).
	Public bool
}

// Allowed reasons.
const (
	ReasonPublic = "public"
	ReasonToken  = "token"
)

// Err returns nil when allowed, else an error wrapping ErrForbidden.
func (d Decision) Err() error {
	if d.Allow {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrForbidden, d.Reason, d.Detail)
}

// Check decides req. The common case, free media without a token,
// allocates nothing.
func (p *Policy) Check(req Request) Decision {
	if p.closed {
		return Decision{Reason: ReasonUnavailable, Detail: "the catalog could not be read: try again shortly"}
	}
	var t *target
	if req.Session != "" {
		if t = p.sessions[req.Session]; t == nil {
			return Decision{Reason: ReasonUnknownSession, Detail: describe(req) + " is not in the catalog"}
		}
	} else {
		t = p.assetTarget(req.Asset)
	}
	if req.Token == "" {
		if t.free {
			return Decision{Allow: true, Reason: ReasonPublic, Public: true}
		}
		return Decision{Reason: ReasonTokenRequired, Detail: describe(req) + " belongs to a course that is not public: use a signed link from the course"}
	}
	if err := p.verify(req, t); err != nil {
		return Decision{Reason: playback.Reason(err), Detail: err.Error(), Public: t.free}
	}
	return Decision{Allow: true, Reason: ReasonToken, Public: t.free}
}

// describe names the media of req for messages.
func describe(req Request) string {
	if req.Session != "" {
		return fmt.Sprintf("live session %q", req.Session)
	}
	return fmt.Sprintf("asset %q", req.Asset)
}

// verify checks the token against every scope that covers the request:
// the asset itself (or "session:S" for a session), each of its courses,
// and "session:S" for a recording. The first out-of-scope error is
// returned when none covers it; any other failure is returned at once.
func (p *Policy) verify(req Request, t *target) error {
	name := req.Asset
	if req.Session != "" {
		name = SessionScope(req.Session)
	}
	names := []string{name}
	if req.Session == "" && t.session != "" {
		names = append(names, SessionScope(t.session))
	}
	courses := t.courses
	if len(courses) == 0 {
		courses = []string{""}
	}
	var first error
	for _, n := range names {
		for _, c := range courses {
			_, err := p.verifier.Verify(req.Token, n, c, req.Client)
			if err == nil {
				return nil
			}
			if !errors.Is(err, playback.ErrOutOfScope) {
				return err
			}
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// assetTarget returns what the Policy knows of asset id; an asset in no
// course is free unless it is an orphan recording (see the package doc).
func (p *Policy) assetTarget(id string) *target {
	if t := p.assets[id]; t != nil && len(t.courses) > 0 {
		return t
	}
	if s, ok := p.recordingSession(id); ok {
		return &target{courses: s.courses, free: s.free, session: s.session}
	}
	return freeTarget
}

// freeTarget is every asset in no course (shared, never modified).
var freeTarget = &target{free: true}

// recordingSession finds the session whose recording directory name id
// is: the session id, or the id followed by "-N" (node/live's naming).
func (p *Policy) recordingSession(id string) (*target, bool) {
	if s := p.sessions[id]; s != nil {
		return s, true
	}
	if i := strings.LastIndexByte(id, '-'); i > 0 {
		if _, err := strconv.ParseUint(id[i+1:], 10, 32); err == nil {
			if s := p.sessions[id[:i]]; s != nil {
				return s, true
			}
		}
	}
	return nil, false
}

// Courses returns the courses asset id belongs to (for signing rights).
func (p *Policy) Courses(asset string) []string {
	return slices.Clone(p.assetTarget(asset).courses)
}

// SessionCourse returns the course of live session id.
func (p *Policy) SessionCourse(id string) (string, bool) {
	t := p.sessions[id]
	if t == nil {
		return "", false
	}
	return t.courses[0], true
}

// PublicAsset reports whether asset id plays freely.
func (p *Policy) PublicAsset(id string) bool { return !p.closed && p.assetTarget(id).free }

// PublicSession reports whether live session id plays freely; an unknown
// session does not.
func (p *Policy) PublicSession(id string) bool {
	t := p.sessions[id]
	return !p.closed && t != nil && t.free
}

// AssetLabel returns id for a metric label if the asset plays freely,
// else PrivateLabel.
func (p *Policy) AssetLabel(id string) string {
	if p.PublicAsset(id) {
		return id
	}
	return PrivateLabel
}

// SessionLabel returns id for a metric label if the session plays
// freely, else PrivateLabel.
func (p *Policy) SessionLabel(id string) string {
	if p.PublicSession(id) {
		return id
	}
	return PrivateLabel
}
