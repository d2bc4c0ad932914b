package control

import (
	"errors"
	"testing"
	"time"
)

// TestAssetOwnership: the owner survives updates without course_id (an
// origin registering its media), must be an existing course, and is
// released when its course is deleted; an asset without one takes the
// course of the lessons and sessions that use it when they all belong to
// one course.
func TestAssetOwnership(t *testing.T) {
	n := newTestNode(t, "solo", true, nil)
	leaderOf(t, n)
	s := n.store
	ctx := ctxT(t, 20*time.Second)
	for _, c := range []string{"a", "b"} {
		mustCreate(t, s, KindCourse, c, &Course{Title: c, Visibility: VisibilityPrivate})
		mustCreate(t, s, KindModule, "m-"+c, &Module{CourseID: c, Title: "M"})
	}
	if _, err := s.Create(ctx, KindAsset, "x", &Asset{CourseID: "nope", Title: "x", Source: "x.mp4", Status: AssetReady}); !errors.Is(err, ErrRefMissing) {
		t.Fatalf("owner that does not exist: %v", err)
	}
	owned := testAsset("owned")
	owned.CourseID = "a"
	mustCreate(t, s, KindAsset, "owned", owned)
	if _, err := s.Update(ctx, KindAsset, "owned", 0, testAsset("owned")); err != nil { // no course_id
		t.Fatal(err)
	}
	if a, _ := s.Asset("owned"); a.CourseID != "a" {
		t.Fatalf("an update without course_id cleared the owner: %q", a.CourseID)
	}

	mustCreate(t, s, KindAsset, "free", testAsset("free"))
	mustCreate(t, s, KindAsset, "rec", testAsset("rec"))
	mustCreate(t, s, KindAsset, "shared", testAsset("shared"))
	mustCreate(t, s, KindLesson, "l1", &Lesson{ModuleID: "m-b", Title: "L", AssetID: "free"})
	mustCreate(t, s, KindLesson, "l2", &Lesson{ModuleID: "m-a", Title: "L", AssetID: "shared"})
	mustCreate(t, s, KindLesson, "l3", &Lesson{ModuleID: "m-b", Title: "L", AssetID: "shared"})
	mustCreate(t, s, KindSession, "s1", &LiveSession{CourseID: "b", Title: "S", ScheduledStart: testAt,
		ScheduledEnd: testAt.Add(time.Hour), State: SessionEnded, RecordingAssetID: "rec"})
	want := map[string]string{"owned": "a", "free": "b", "rec": "b"}
	got, err := s.AssetOwners()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("AssetOwners = %v, want %v", got, want)
	}
	for a, c := range want {
		if got[a] != c {
			t.Fatalf("AssetOwners = %v, want %v", got, want)
		}
		if o, err := s.AssetOwner(a); err != nil || o != c {
			t.Fatalf("AssetOwner(%s) = %q, %v, want %q", a, o, err, c)
		}
	}
	if o, err := s.AssetOwner("shared"); err != nil || o != "" {
		t.Fatalf("an asset of two courses has owner %q (%v)", o, err)
	}
	if _, err := s.AssetOwner("ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AssetOwner of a missing asset: %v", err)
	}

	// Deleting course a releases what it owns.
	for _, step := range []struct {
		k  Kind
		id string
	}{{KindLesson, "l2"}, {KindModule, "m-a"}, {KindCourse, "a"}} {
		if _, err := s.Delete(ctx, step.k, step.id, 0); err != nil {
			t.Fatal(err)
		}
	}
	if a, _ := s.Asset("owned"); a.CourseID != "" {
		t.Fatalf("deleting the course kept the owner %q", a.CourseID)
	}
	if o, _ := s.AssetOwner("shared"); o != "b" {
		t.Fatalf("shared asset now used by b only: owner %q", o)
	}
}
