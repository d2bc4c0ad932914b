package control

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestValidation(t *testing.T) {
	t0 := testAt
	good := map[Kind]record{
		KindCourse:  &Course{ID: "c1", Title: "T", Visibility: VisibilityPublic},
		KindModule:  &Module{ID: "m1", CourseID: "c1", Title: "T"},
		KindLesson:  &Lesson{ID: "l1", ModuleID: "m1", Title: "T", AssetID: "a1", Chapters: []Chapter{{0, "Intro"}, {30, "Body"}}},
		KindAsset:   &Asset{ID: "a1", Title: "T", Source: "https://media.example/a.mp4", Status: AssetPending},
		KindSession: &LiveSession{ID: "s1", CourseID: "c1", Title: "T", ScheduledStart: t0, ScheduledEnd: t0.Add(time.Hour), State: SessionLive, StreamKeyHash: placeholderHash},
		KindSite:    &Site{Name: "campus", CIDRs: []string{"10.1.0.0/16", "2001:db8::/32"}, P2PPolicy: P2PDownloadOnly},
		KindKey:     &SigningKey{KID: "k1", Secret: strings.Repeat("s", 32), NotBefore: t0, NotAfter: t0.Add(time.Hour)},
		KindToken:   &APIToken{ID: "t1", Hash: placeholderHash, Role: RoleAdmin},
	}
	for k, r := range good {
		if err := r.validate(); err != nil {
			t.Errorf("valid %s rejected: %v", k, err)
		}
	}
	cases := []struct {
		name  string
		rec   record
		field string
	}{
		{"bad id chars", &Course{ID: "a/b", Title: "T", Visibility: VisibilityPublic}, "id"},
		{"long id", &Course{ID: strings.Repeat("a", 129), Title: "T", Visibility: VisibilityPublic}, "id"},
		{"empty title", &Course{ID: "c", Title: "  ", Visibility: VisibilityPublic}, "title"},
		{"bad visibility", &Course{ID: "c", Title: "T", Visibility: "secret"}, "visibility"},
		{"duplicate module", &Course{ID: "c", Title: "T", Visibility: VisibilityPublic, Modules: []string{"m", "m"}}, "modules"},
		{"long title", &Module{ID: "m", CourseID: "c", Title: strings.Repeat("x", 257)}, "title"},
		{"chapters out of order", &Lesson{ID: "l", ModuleID: "m", Title: "T", AssetID: "a", Chapters: []Chapter{{10, "b"}, {5, "a"}}}, "chapters[1].time"},
		{"negative chapter", &Lesson{ID: "l", ModuleID: "m", Title: "T", AssetID: "a", Chapters: []Chapter{{-1, "a"}}}, "chapters[0].time"},
		{"self prerequisite", &Lesson{ID: "l", ModuleID: "m", Title: "T", AssetID: "a", Prerequisites: []string{"l"}}, "prerequisites"},
		{"absolute source", &Asset{ID: "a", Title: "T", Source: "/etc/passwd", Status: AssetReady}, "source"},
		{"dotdot source", &Asset{ID: "a", Title: "T", Source: "x/../../y", Status: AssetReady}, "source"},
		{"bad status", &Asset{ID: "a", Title: "T", Source: "a.mp4", Status: "done"}, "status"},
		{"end before start", &LiveSession{ID: "s", CourseID: "c", Title: "T", ScheduledStart: t0, ScheduledEnd: t0, State: SessionScheduled, StreamKeyHash: placeholderHash}, "scheduled_end"},
		{"bad state", &LiveSession{ID: "s", CourseID: "c", Title: "T", ScheduledStart: t0, ScheduledEnd: t0.Add(1), State: "paused", StreamKeyHash: placeholderHash}, "state"},
		{"missing hash", &LiveSession{ID: "s", CourseID: "c", Title: "T", ScheduledStart: t0, ScheduledEnd: t0.Add(1), State: SessionLive}, "stream_key_hash"},
		{"bad cidr", &Site{Name: "s", CIDRs: []string{"10.0.0.300/8"}, P2PPolicy: P2POn}, "cidrs[0]"},
		{"host bits", &Site{Name: "s", CIDRs: []string{"10.0.0.1/8"}, P2PPolicy: P2POn}, "cidrs[0]"},
		{"no cidrs", &Site{Name: "s", P2PPolicy: P2POn}, "cidrs"},
		{"bad policy", &Site{Name: "s", CIDRs: []string{"10.0.0.0/8"}, P2PPolicy: "maybe"}, "p2p_policy"},
		{"short secret", &SigningKey{KID: "k", Secret: "x", NotBefore: t0, NotAfter: t0.Add(1)}, "secret"},
		{"key window", &SigningKey{KID: "k", Secret: strings.Repeat("s", 32), NotBefore: t0, NotAfter: t0.Add(-1)}, "not_after"},
		{"instructor without course", &APIToken{ID: "t", Hash: placeholderHash, Role: RoleInstructor}, "courses"},
		{"bad role", &APIToken{ID: "t", Hash: placeholderHash, Role: "root"}, "role"},
		{"uppercase hash", &APIToken{ID: "t", Hash: strings.Repeat("A", 64), Role: RoleAdmin}, "hash"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rec.validate()
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalid || e.Field != tc.field {
				t.Fatalf("err = %v, want invalid on field %q", err, tc.field)
			}
		})
	}
}

func TestDecodeCommandRejects(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"bad version", "\x02{}"},
		{"not json", "\x01{"},
		{"unknown field", "\x01{\"op\":\"delete\",\"k\":\"course\",\"id\":\"c\",\"x\":1}"},
		{"unknown op", "\x01{\"op\":\"drop\",\"k\":\"course\",\"id\":\"c\"}"},
		{"unknown kind", "\x01{\"op\":\"delete\",\"k\":\"user\",\"id\":\"c\"}"},
		{"bad id", "\x01{\"op\":\"delete\",\"k\":\"course\",\"id\":\"../c\"}"},
		{"create without payload", "\x01{\"op\":\"create\",\"k\":\"course\",\"id\":\"c\"}"},
		{"delete with payload", "\x01{\"op\":\"delete\",\"k\":\"course\",\"id\":\"c\",\"p\":{}}"},
		{"rollback without revision", "\x01{\"op\":\"rollback\",\"k\":\"course\",\"id\":\"c\"}"},
		{"trailing data", "\x01{\"op\":\"delete\",\"k\":\"course\",\"id\":\"c\"}{}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := DecodeCommand([]byte(tc.in)); err == nil {
				t.Fatalf("accepted %+v", c)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	var c Config
	if err := c.Validate(); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("empty config: %v", err)
	}
	c = Config{NodeID: "n", DataDir: t.TempDir(), Transport: nil}
	if err := c.Validate(); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("no transport: %v", err)
	}
}

// TestOpenOwnsTheStreamLayer: a StreamLayer and a Transport together are
// refused, and the layer given to a failing Open is closed.
func TestOpenOwnsTheStreamLayer(t *testing.T) {
	_, trans := raft.NewInmemTransport("")
	layer := &closeCounter{}
	cfg := Config{NodeID: "n", DataDir: t.TempDir(), Transport: trans, StreamLayer: layer}
	if _, err := Open(cfg); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("both a StreamLayer and a Transport: %v", err)
	}
	if layer.closed != 1 {
		t.Fatalf("layer closed %d times by a failed Open, want 1", layer.closed)
	}
}

// closeCounter is a StreamLayer that only counts Close.
type closeCounter struct {
	StreamLayer
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }
