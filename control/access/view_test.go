package access

import (
	"errors"
	"testing"

	"github.com/classmesh/classmesh/control"
)

// fakeCatalog serves a fixed catalog at a settable index, or fails.
type fakeCatalog struct {
	idx     uint64
	fail    error
	courses []control.Course
	lessons []control.Lesson
	reads   int
}

func (f *fakeCatalog) AppliedIndex() uint64 { return f.idx }
func (f *fakeCatalog) Courses() ([]control.Course, error) {
	f.reads++
	return f.courses, f.fail
}
func (f *fakeCatalog) Lessons() ([]control.Lesson, error)       { return f.lessons, f.fail }
func (f *fakeCatalog) Assets() ([]control.Asset, error)         { return nil, f.fail }
func (f *fakeCatalog) Sessions() ([]control.LiveSession, error) { return nil, f.fail }
func (f *fakeCatalog) SigningKeys() ([]control.SigningKey, error) {
	return nil, f.fail
}

// TestView: the policy is rebuilt only when the index moves; before any
// read it fails closed; after one, a failing catalog keeps the last
// policy.
func TestView(t *testing.T) {
	private := &fakeCatalog{idx: 1,
		courses: []control.Course{{ID: "c", Visibility: control.VisibilityEnrolled}},
		lessons: []control.Lesson{{ID: "l", CourseID: "c", AssetID: "a"}}}
	free := Request{Asset: "a"}

	bad := &fakeCatalog{idx: 1, fail: errors.New("disk")}
	if d := NewView(bad, nil).Policy().Check(free); d.Allow || d.Reason != ReasonUnavailable {
		t.Fatalf("unreadable catalog before any policy: %+v, want %s", d, ReasonUnavailable)
	}

	v := NewView(private, nil)
	p1 := v.Policy()
	if d := p1.Check(free); d.Allow {
		t.Fatalf("asset of a private course without a token: allowed")
	}
	if p := v.Policy(); p != p1 || private.reads != 1 {
		t.Fatalf("same index: rebuilt (reads %d)", private.reads)
	}
	private.idx, private.courses = 2, []control.Course{{ID: "c", Visibility: control.VisibilityPublic}}
	p2 := v.Policy()
	if p2 == p1 || p2.Index() != 2 || !p2.Check(free).Allow {
		t.Fatalf("index moved to 2: policy at %d, allow %v", p2.Index(), p2.Check(free).Allow)
	}
	private.idx, private.fail = 3, errors.New("disk")
	if p := v.Policy(); p != p2 {
		t.Fatal("a failed read replaced the last policy")
	}
}
