package control

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

type bboltTx = bolt.Tx

// harness drives the FSM directly with log entries, without raft.
type harness struct {
	t   *testing.T
	f   *fsm
	idx uint64
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	f, err := openFSM(filepath.Join(t.TempDir(), "catalog.db"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.close() })
	return &harness{t: t, f: f}
}

var testAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func (h *harness) apply(c Command) *applyResult {
	h.t.Helper()
	if c.At.IsZero() {
		c.At = testAt
	}
	b, err := EncodeCommand(&c)
	if err != nil {
		h.t.Fatal(err)
	}
	h.idx++
	return h.f.Apply(&raft.Log{Index: h.idx, Type: raft.LogCommand, Data: b}).(*applyResult)
}

func (h *harness) ok(c Command) uint64 {
	h.t.Helper()
	res := h.apply(c)
	if res.Err != nil {
		h.t.Fatalf("%s %s %s: %v", c.Op, c.Kind, c.ID, res.Err)
	}
	return res.Revision
}

func create(k Kind, id string, v any) Command {
	b, _ := json.Marshal(v)
	return Command{Op: OpCreate, Kind: k, ID: id, Payload: b}
}

func update(k Kind, id string, ifMatch uint64, v any) Command {
	c := create(k, id, v)
	c.Op, c.IfMatch = OpUpdate, ifMatch
	return c
}

func (h *harness) get(k Kind, id string, v any) {
	h.t.Helper()
	err := h.f.view(func(tx *bboltTx) error {
		return json.Unmarshal(tx.Bucket([]byte(k)).Get([]byte(id)), v)
	})
	if err != nil {
		h.t.Fatalf("get %s %s: %v", k, id, err)
	}
}

// seed creates course c1 (modules m1, m2), asset a1 and lessons l1, l2 in m1.
func (h *harness) seed() {
	h.ok(create(KindCourse, "c1", Course{Title: "Course", Visibility: VisibilityPublic}))
	h.ok(create(KindAsset, "a1", testAsset("a1")))
	h.ok(create(KindModule, "m1", Module{CourseID: "c1", Title: "M1"}))
	h.ok(create(KindModule, "m2", Module{CourseID: "c1", Title: "M2"}))
	h.ok(create(KindLesson, "l1", Lesson{ModuleID: "m1", Title: "L1", AssetID: "a1"}))
	h.ok(create(KindLesson, "l2", Lesson{ModuleID: "m1", Title: "L2", AssetID: "a1", Prerequisites: []string{"l1"}}))
}

func TestIfMatchConflict(t *testing.T) {
	h := newHarness(t)
	rev := h.ok(create(KindCourse, "c1", Course{Title: "A", Visibility: VisibilityPublic}))
	rev2 := h.ok(update(KindCourse, "c1", rev, Course{Title: "B", Visibility: VisibilityPublic}))
	res := h.apply(update(KindCourse, "c1", rev, Course{Title: "C", Visibility: VisibilityPublic}))
	if !errors.Is(res.Err, ErrConflict) || res.Err.Revision != rev2 {
		t.Fatalf("stale if_match: %+v", res.Err)
	}
	res = h.apply(Command{Op: OpDelete, Kind: KindCourse, ID: "c1", IfMatch: rev})
	if !errors.Is(res.Err, ErrConflict) {
		t.Fatalf("stale delete: %+v", res.Err)
	}
	var c Course
	h.get(KindCourse, "c1", &c)
	if c.Title != "B" || c.Revision != rev2 || !c.UpdatedAt.Equal(testAt) {
		t.Fatalf("course = %+v", c)
	}
	if res := h.apply(create(KindCourse, "c1", Course{Title: "A", Visibility: VisibilityPublic})); !errors.Is(res.Err, ErrConflict) {
		t.Fatalf("duplicate create: %+v", res.Err)
	}
}

func TestReferentialErrors(t *testing.T) {
	start := testAt
	cases := []struct {
		name string
		cmd  Command
		code Code
		msg  string
	}{
		{"module without course", create(KindModule, "mx", Module{CourseID: "nope", Title: "x"}), CodeRefMissing, `course "nope"`},
		{"lesson without module", create(KindLesson, "lx", Lesson{ModuleID: "nope", Title: "x", AssetID: "a1"}), CodeRefMissing, `module "nope"`},
		{"lesson without asset", create(KindLesson, "lx", Lesson{ModuleID: "m1", Title: "x", AssetID: "nope"}), CodeRefMissing, `asset "nope"`},
		{"missing prerequisite", create(KindLesson, "lx", Lesson{ModuleID: "m1", Title: "x", AssetID: "a1", Prerequisites: []string{"zz"}}), CodeRefMissing, `lesson "zz"`},
		{"prerequisite in other course", create(KindLesson, "lx", Lesson{ModuleID: "m9", Title: "x", AssetID: "a1", Prerequisites: []string{"l1"}}), CodeInvalid, "another course"},
		{"lesson course mismatch", create(KindLesson, "lx", Lesson{ModuleID: "m1", CourseID: "c2", Title: "x", AssetID: "a1"}), CodeInvalid, "belongs to course"},
		{"delete course with modules", Command{Op: OpDelete, Kind: KindCourse, ID: "c1"}, CodeConflict, "course \"c1\" has 2 modules"},
		{"delete module with lessons", Command{Op: OpDelete, Kind: KindModule, ID: "m1"}, CodeConflict, "has 2 lessons"},
		{"delete used asset", Command{Op: OpDelete, Kind: KindAsset, ID: "a1"}, CodeConflict, "used by 2 lessons"},
		{"delete prerequisite", Command{Op: OpDelete, Kind: KindLesson, ID: "l1"}, CodeConflict, "prerequisite"},
		{"delete missing", Command{Op: OpDelete, Kind: KindSite, ID: "nope"}, CodeNotFound, "not found"},
		{"session without course", create(KindSession, "s1", LiveSession{CourseID: "nope", Title: "x", ScheduledStart: start,
			ScheduledEnd: start.Add(time.Hour), State: SessionScheduled, StreamKeyHash: placeholderHash}), CodeRefMissing, `course "nope"`},
		{"token for missing course", create(KindToken, "t1", APIToken{Hash: placeholderHash, Role: RoleInstructor, Courses: []string{"nope"}}), CodeRefMissing, `course "nope"`},
		{"module moves course", update(KindModule, "m2", 0, Module{CourseID: "c2", Title: "M2"}), CodeInvalid, "cannot move"},
		{"course create with modules", create(KindCourse, "c3", Course{Title: "x", Visibility: VisibilityPublic, Modules: []string{"m1"}}), CodeInvalid, "creating children"},
		{"course reorder adds module", update(KindCourse, "c1", 0, Course{Title: "x", Visibility: VisibilityPublic, Modules: []string{"m1", "m9"}}), CodeInvalid, "reorder"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed()
			h.ok(create(KindCourse, "c2", Course{Title: "Other", Visibility: VisibilityPrivate}))
			h.ok(create(KindModule, "m9", Module{CourseID: "c2", Title: "M9"}))
			res := h.apply(tc.cmd)
			if res.Err == nil || res.Err.Code != tc.code || !strings.Contains(res.Err.Message, tc.msg) {
				t.Fatalf("err = %+v, want %s containing %q", res.Err, tc.code, tc.msg)
			}
		})
	}
}

func TestOrderListsMaintained(t *testing.T) {
	h := newHarness(t)
	h.seed()
	var c Course
	h.get(KindCourse, "c1", &c)
	if strings.Join(c.Modules, ",") != "m1,m2" {
		t.Fatalf("course modules = %v", c.Modules)
	}
	h.ok(update(KindCourse, "c1", c.Revision, Course{Title: "Course", Visibility: VisibilityPublic, Modules: []string{"m2", "m1"}}))
	h.ok(update(KindLesson, "l1", 0, Lesson{ModuleID: "m2", Title: "L1", AssetID: "a1"}))
	var m1, m2 Module
	h.get(KindModule, "m1", &m1)
	h.get(KindModule, "m2", &m2)
	if strings.Join(m1.Lessons, ",") != "l2" || strings.Join(m2.Lessons, ",") != "l1" {
		t.Fatalf("lessons m1=%v m2=%v", m1.Lessons, m2.Lessons)
	}
	h.ok(Command{Op: OpDelete, Kind: KindLesson, ID: "l2"})
	h.ok(Command{Op: OpDelete, Kind: KindModule, ID: "m1"})
	h.get(KindCourse, "c1", &c)
	if strings.Join(c.Modules, ",") != "m2" {
		t.Fatalf("course modules after delete = %v", c.Modules)
	}
}

func TestHistoryAndRollback(t *testing.T) {
	h := newHarness(t) // history limit 3
	var revs []uint64
	revs = append(revs, h.ok(create(KindAsset, "a1", Asset{Title: "v1", Source: "a.mp4", Status: AssetReady})))
	for _, title := range []string{"v2", "v3", "v4"} {
		revs = append(revs, h.ok(update(KindAsset, "a1", 0, Asset{Title: title, Source: "a.mp4", Status: AssetReady})))
	}
	if res := h.apply(Command{Op: OpRollback, Kind: KindAsset, ID: "a1", ToRevision: revs[0]}); !errors.Is(res.Err, ErrNotFound) {
		t.Fatalf("rollback to a pruned revision: %+v", res.Err)
	}
	rb := h.ok(Command{Op: OpRollback, Kind: KindAsset, ID: "a1", ToRevision: revs[1], IfMatch: revs[3]})
	var a Asset
	h.get(KindAsset, "a1", &a)
	if a.Title != "v2" || a.Revision != rb || rb <= revs[3] {
		t.Fatalf("after rollback: %+v", a)
	}
	// Deleted records keep their history and can be restored.
	h.ok(Command{Op: OpDelete, Kind: KindAsset, ID: "a1"})
	h.ok(Command{Op: OpRollback, Kind: KindAsset, ID: "a1", ToRevision: revs[3]})
	h.get(KindAsset, "a1", &a)
	if a.Title != "v4" {
		t.Fatalf("undeleted asset = %+v", a)
	}
}

func TestReplayedEntriesAreSkipped(t *testing.T) {
	h := newHarness(t)
	b, _ := EncodeCommand(&Command{Op: OpCreate, Kind: KindAsset, ID: "a1", At: testAt, Payload: mustJSON(t, testAsset("a1"))})
	h.f.Apply(&raft.Log{Index: 5, Type: raft.LogCommand, Data: b})
	res := h.f.Apply(&raft.Log{Index: 5, Type: raft.LogCommand, Data: b}).(*applyResult)
	if res.Err == nil || h.f.appliedIndex() != 5 {
		t.Fatalf("replay: %+v, applied %d", res, h.f.appliedIndex())
	}
	var a Asset
	h.get(KindAsset, "a1", &a)
	if a.Revision != 5 {
		t.Fatalf("asset = %+v", a)
	}
}
