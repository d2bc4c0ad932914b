package control

import (
	"errors"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
)

// TestTokenLookupOnLaggingReplica reproduces finding 8 of issue 11: a
// replica that has not applied a token yet answered 401 to it. A
// non-voter whose applies are paused looks the token up at the leader;
// a token the leader does not know either stays unknown.
func TestTokenLookupOnLaggingReplica(t *testing.T) {
	ca := fwCA(t)
	n1 := newFwNode(t, ca, "n1", true)
	if err := poll(ctxT(t, 10*time.Second), n1.store.IsLeader); err != nil {
		t.Fatal("n1 never led")
	}
	nv := newFwNode(t, ca, "nv", false)
	if err := n1.store.AddNonvoter("nv", nv.addr); err != nil {
		t.Fatal(err)
	}
	res := mustCreate(t, n1.store, KindCourse, "c", &Course{Title: "C", Visibility: VisibilityPublic})
	if err := nv.store.WaitApplied(ctxT(t, 10*time.Second), res.Index); err != nil {
		t.Fatalf("the non-voter never caught up: %v", err)
	}

	// Pause the non-voter's applies: the FSM waits for this write
	// transaction; reads go on.
	tx, err := nv.store.fsm.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			_ = tx.Rollback()
		}
	}
	t.Cleanup(release)
	tok := mustCreate(t, n1.store, KindToken, "late", &APIToken{Role: RoleInstructor, Courses: []string{"c"}})
	hash := HashSecret(tok.Secret)
	if _, err := nv.store.TokenByHash(hash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the paused replica knows the token already (%v): the test proves nothing", err)
	}
	got, err := nv.fwd.LookupToken(ctxT(t, 10*time.Second), hash)
	if err != nil || got.ID != "late" || got.Role != RoleInstructor || len(got.Courses) != 1 {
		t.Fatalf("LookupToken = %+v, %v", got, err)
	}
	if _, err := nv.fwd.LookupToken(ctxT(t, 10*time.Second), HashSecret("cmt_never-issued")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown token: %v, want not found", err)
	}
	if _, err := nv.fwd.LookupToken(ctxT(t, 10*time.Second), "not-a-hash"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("malformed hash: %v, want not found", err)
	}
	release()
	if err := nv.store.WaitApplied(ctxT(t, 10*time.Second), tok.Index); err != nil {
		t.Fatal(err)
	}
	if _, err := nv.store.TokenByHash(hash); err != nil {
		t.Fatalf("after catching up: %v", err)
	}
}

func fwCA(t *testing.T) *transport.CA {
	t.Helper()
	ca, err := transport.DeriveCA("forward-test-secret")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
