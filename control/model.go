package control

import (
	"time"
)

// Kind names a record type of the catalog.
type Kind string

// The record kinds.
const (
	KindCourse  Kind = "course"
	KindModule  Kind = "module"
	KindLesson  Kind = "lesson"
	KindAsset   Kind = "asset"
	KindSession Kind = "session"
	KindSite    Kind = "site"
	KindKey     Kind = "key"
	KindToken   Kind = "token"
)

// Kinds lists every record kind.
var kinds = []Kind{KindCourse, KindModule, KindLesson, KindAsset, KindSession, KindSite, KindKey, KindToken}

// Kinds returns every record kind in a fixed order.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

func (k Kind) valid() bool {
	for _, v := range kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Meta is carried by every record: Revision is the catalog revision of the
// record's last change (catalog-wide, increasing in log order, never below
// the raft index of the entry that carried it), UpdatedAt the leader's
// clock when that change was proposed.
type Meta struct {
	Revision  uint64    `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Visibility of a course.
const (
	VisibilityPublic   = "public"
	VisibilityEnrolled = "enrolled"
	VisibilityPrivate  = "private"
)

// Course is a course. Modules is the module order; it is maintained by the
// FSM as modules are created and deleted, and an update may only reorder it.
type Course struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Visibility  string   `json:"visibility"`
	Modules     []string `json:"modules"`
	Meta
}

// Module is a module of a course. Lessons is the lesson order, maintained
// like Course.Modules.
type Module struct {
	ID       string   `json:"id"`
	CourseID string   `json:"course_id"`
	Title    string   `json:"title"`
	Lessons  []string `json:"lessons"`
	Meta
}

// Chapter is a named point in a lesson's video.
type Chapter struct {
	Time  float64 `json:"time"`
	Title string  `json:"title"`
}

// Lesson is a lesson of a module. CourseID is derived from the module.
type Lesson struct {
	ID            string     `json:"id"`
	ModuleID      string     `json:"module_id"`
	CourseID      string     `json:"course_id"`
	Title         string     `json:"title"`
	AssetID       string     `json:"asset_id"`
	Chapters      []Chapter  `json:"chapters,omitempty"`
	ReleaseAt     *time.Time `json:"release_at,omitempty"`
	Prerequisites []string   `json:"prerequisites,omitempty"`
	Meta
}

// Rendition is one detected rendition of an asset.
type Rendition struct {
	Name    string `json:"name"`
	Width   int    `json:"width,omitempty"`
	Height  int    `json:"height,omitempty"`
	Bitrate int    `json:"bitrate,omitempty"`
	Codecs  string `json:"codecs,omitempty"`
	Path    string `json:"path,omitempty"`
}

// Asset status values.
const (
	AssetPending = "pending"
	AssetReady   = "ready"
	AssetFailed  = "failed"
)

// Asset is a video asset: Source is a path under --media or an HTTP(S) URL.
//
// CourseID is the course that owns the asset (see owner.go): linking it
// into a lesson or signing playback URLs for it needs rights on that
// course. Empty means no owner yet: only admins may link or sign for it,
// and the first lesson (or live session recording) that links it makes
// its course the owner. An update that leaves it empty keeps the current
// owner, so origin nodes registering their media never clear it.
type Asset struct {
	ID         string      `json:"id"`
	CourseID   string      `json:"course_id,omitempty"`
	Title      string      `json:"title"`
	Source     string      `json:"source"`
	Renditions []Rendition `json:"renditions,omitempty"`
	Duration   float64     `json:"duration"`
	Status     string      `json:"status"`
	Reason     string      `json:"reason,omitempty"`
	Meta
}

// Live session states.
const (
	SessionScheduled = "scheduled"
	SessionLive      = "live"
	SessionEnded     = "ended"
)

// LiveSession is a scheduled or running live class. Only the SHA-256 of the
// stream key is stored; the key is returned once, when the session is created.
type LiveSession struct {
	ID             string    `json:"id"`
	CourseID       string    `json:"course_id"`
	Title          string    `json:"title"`
	ScheduledStart time.Time `json:"scheduled_start"`
	ScheduledEnd   time.Time `json:"scheduled_end"`
	StreamKeyHash  string    `json:"stream_key_hash"`
	State          string    `json:"state"`
	// RecordingAssetID is the asset of the recording once the session
	// has ended.
	RecordingAssetID string `json:"recording_asset,omitempty"`
	// IngestNode is the id of the node that receives the stream while the
	// session is live; edges subscribe to its tracks through the relay.
	// Set by that node.
	IngestNode string `json:"ingest_node,omitempty"`
	Meta
}

// P2P policies of a site.
const (
	P2POn           = "on"
	P2POff          = "off"
	P2PDownloadOnly = "download-only"
)

// Site is a named set of networks with a peer-to-peer policy. Its id is Name.
type Site struct {
	Name      string   `json:"name"`
	CIDRs     []string `json:"cidrs"`
	P2PPolicy string   `json:"p2p_policy"`
	Meta
}

// SigningKey is an HMAC key for playback tokens. Its id is KID.
type SigningKey struct {
	KID       string    `json:"kid"`
	Secret    string    `json:"secret"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Meta
}

// API token roles.
const (
	RoleAdmin      = "admin"
	RoleInstructor = "instructor"
)

// APIToken is a bearer token for the API; only the SHA-256 of the token is
// stored, the token itself is returned once on create.
type APIToken struct {
	ID      string   `json:"id"`
	Hash    string   `json:"hash"`
	Role    string   `json:"role"`
	Courses []string `json:"courses,omitempty"`
	Meta
}

// record is implemented by every record type.
type record interface {
	meta() *Meta
	key() string
	setKey(id string)
	validate() error
}

func (c *Course) meta() *Meta      { return &c.Meta }
func (m *Module) meta() *Meta      { return &m.Meta }
func (l *Lesson) meta() *Meta      { return &l.Meta }
func (a *Asset) meta() *Meta       { return &a.Meta }
func (s *LiveSession) meta() *Meta { return &s.Meta }
func (s *Site) meta() *Meta        { return &s.Meta }
func (k *SigningKey) meta() *Meta  { return &k.Meta }
func (t *APIToken) meta() *Meta    { return &t.Meta }

func (c *Course) key() string      { return c.ID }
func (m *Module) key() string      { return m.ID }
func (l *Lesson) key() string      { return l.ID }
func (a *Asset) key() string       { return a.ID }
func (s *LiveSession) key() string { return s.ID }
func (s *Site) key() string        { return s.Name }
func (k *SigningKey) key() string  { return k.KID }
func (t *APIToken) key() string    { return t.ID }

func (c *Course) setKey(id string)      { c.ID = id }
func (m *Module) setKey(id string)      { m.ID = id }
func (l *Lesson) setKey(id string)      { l.ID = id }
func (a *Asset) setKey(id string)       { a.ID = id }
func (s *LiveSession) setKey(id string) { s.ID = id }
func (s *Site) setKey(id string)        { s.Name = id }
func (k *SigningKey) setKey(id string)  { k.KID = id }
func (t *APIToken) setKey(id string)    { t.ID = id }

// newRecord returns an empty record of kind k, or nil for an unknown kind.
func newRecord(k Kind) record {
	switch k {
	case KindCourse:
		return &Course{}
	case KindModule:
		return &Module{}
	case KindLesson:
		return &Lesson{}
	case KindAsset:
		return &Asset{}
	case KindSession:
		return &LiveSession{}
	case KindSite:
		return &Site{}
	case KindKey:
		return &SigningKey{}
	case KindToken:
		return &APIToken{}
	}
	return nil
}
