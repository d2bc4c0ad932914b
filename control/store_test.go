package control

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestSingleNodeBootstrapServesWrites(t *testing.T) {
	n := newTestNode(t, "solo", true, nil)
	if err := n.store.WaitLeader(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	res := mustCreate(t, n.store, KindCourse, "go-101", &Course{Title: "Go", Visibility: VisibilityPublic})
	c, err := n.store.Course("go-101")
	if err != nil {
		t.Fatal(err)
	}
	if c.Revision != res.Revision || c.Title != "Go" || c.UpdatedAt.IsZero() {
		t.Fatalf("course = %+v, result revision %d", c, res.Revision)
	}
	st, err := n.store.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.LeaderID != "solo" || len(st.Voters) != 1 || st.AppliedIndex < res.Index {
		t.Fatalf("stats = %+v", st)
	}
}

func TestSecretsReturnedOnce(t *testing.T) {
	n := newTestNode(t, "solo", true, nil)
	leaderOf(t, n)
	mustCreate(t, n.store, KindCourse, "c1", &Course{Title: "C", Visibility: VisibilityEnrolled})
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	res := mustCreate(t, n.store, KindSession, "s1", &LiveSession{CourseID: "c1", Title: "Live", ScheduledStart: start,
		ScheduledEnd: start.Add(time.Hour), State: SessionScheduled})
	if res.Secret == "" {
		t.Fatal("no stream key returned")
	}
	sess, err := n.store.Session("s1")
	if err != nil {
		t.Fatal(err)
	}
	if sess.StreamKeyHash != HashSecret(res.Secret) {
		t.Fatalf("stored hash %q is not the hash of the returned key", sess.StreamKeyHash)
	}
	// An update cannot replace the hash and returns no secret.
	sess.Title, sess.StreamKeyHash = "Live 2", ""
	up, err := n.store.Update(ctxT(t, 5*time.Second), KindSession, "s1", sess.Revision, sess)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := n.store.Session("s1")
	if up.Secret != "" || got.StreamKeyHash != HashSecret(res.Secret) || got.Title != "Live 2" {
		t.Fatalf("after update: secret %q, session %+v", up.Secret, got)
	}
	tok := mustCreate(t, n.store, KindToken, "t1", &APIToken{Role: RoleInstructor, Courses: []string{"c1"}})
	found, err := n.store.TokenByHash(HashSecret(tok.Secret))
	if err != nil || found.ID != "t1" {
		t.Fatalf("token lookup = %+v, %v", found, err)
	}
	// The lookup is cached; token writes invalidate it.
	tok2 := mustCreate(t, n.store, KindToken, "t2", &APIToken{Role: RoleInstructor, Courses: []string{"c1"}})
	if found, err := n.store.TokenByHash(HashSecret(tok2.Secret)); err != nil || found.ID != "t2" {
		t.Fatalf("new token lookup = %+v, %v", found, err)
	}
	if _, err := n.store.Delete(ctxT(t, 5*time.Second), KindToken, "t1", 0); err != nil {
		t.Fatal(err)
	}
	if found, err := n.store.TokenByHash(HashSecret(tok.Secret)); err == nil {
		t.Fatalf("deleted token still found: %+v", found)
	}
}

func TestRestartKeepsStateAndAppliedIndex(t *testing.T) {
	n := newTestNode(t, "solo", true, nil)
	leaderOf(t, n)
	var last uint64
	for i := range 20 {
		last = mustCreate(t, n.store, KindAsset, fmt.Sprintf("a%d", i), testAsset("x")).Index
	}
	if err := n.store.Snapshot(); err != nil {
		t.Fatal(err)
	}
	for i := 20; i < 25; i++ { // entries after the snapshot are replayed on restart
		last = mustCreate(t, n.store, KindAsset, fmt.Sprintf("a%d", i), testAsset("x")).Index
	}
	before := dump(t, n.store)
	n.stop()
	n.start()
	if got := n.store.AppliedIndex(); got < last {
		t.Fatalf("applied index after restart = %d, want >= %d", got, last)
	}
	leaderOf(t, n)
	if err := n.store.WaitApplied(ctxT(t, 5*time.Second), last); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, n.store); !maps.Equal(before, after) {
		t.Fatalf("state changed across restart: %d vs %d entries", len(before), len(after))
	}
	mustCreate(t, n.store, KindAsset, "after", testAsset("x"))
}

// TestCrashRebuildsCatalogFromLog: the catalog file is written without
// fsync and trusted only after a clean close. Without the clean marker (a
// crash) it is discarded at open and rebuilt from the snapshot and the log.
func TestCrashRebuildsCatalogFromLog(t *testing.T) {
	n := newTestNode(t, "solo", true, nil)
	leaderOf(t, n)
	var last uint64
	for i := range 10 {
		last = mustCreate(t, n.store, KindAsset, fmt.Sprintf("a%d", i), testAsset("x")).Index
	}
	if err := n.store.Snapshot(); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 15; i++ {
		last = mustCreate(t, n.store, KindAsset, fmt.Sprintf("a%d", i), testAsset("x")).Index
	}
	before := dump(t, n.store)
	n.stop()
	catalog := filepath.Join(n.dir, "catalog.db")
	if err := os.Remove(catalog + ".clean"); err != nil {
		t.Fatalf("clean close left no marker: %v", err)
	}
	// Scribble over the file, as a torn write after a power loss might.
	if err := os.WriteFile(catalog, []byte("torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	n.start()
	leaderOf(t, n)
	if err := n.store.WaitApplied(ctxT(t, 5*time.Second), last); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, n.store); !maps.Equal(before, after) {
		t.Fatalf("state changed across the crash: %d vs %d entries", len(before), len(after))
	}
}

func TestThreeVotersReplicateAndReadIndex(t *testing.T) {
	nodes := cluster3(t, nil)
	l := leaderOf(t, nodes...)
	res := mustCreate(t, l.store, KindCourse, "c1", &Course{Title: "C", Visibility: VisibilityPublic})
	idx, err := l.store.ReadIndex(ctxT(t, 5*time.Second))
	if err != nil || idx < res.Index {
		t.Fatalf("read index = %d, %v (write at %d)", idx, err, res.Index)
	}
	for _, n := range nodes {
		if err := n.store.WaitApplied(ctxT(t, 5*time.Second), idx); err != nil {
			t.Fatalf("%s: %v", n.id, err)
		}
		if c, err := n.store.Course("c1"); err != nil || c.Revision != res.Revision {
			t.Fatalf("%s: course = %+v, %v", n.id, c, err)
		}
		if n != l {
			if _, err := n.store.ReadIndex(ctxT(t, 5*time.Second)); !errors.Is(err, ErrNotLeader) {
				t.Fatalf("%s: follower ReadIndex err = %v", n.id, err)
			}
			if _, err := n.store.Create(ctxT(t, 5*time.Second), KindAsset, "x", testAsset("x")); !errors.Is(err, ErrNotLeader) {
				t.Fatalf("%s: follower write err = %v", n.id, err)
			}
		}
	}
	st, _ := l.store.Stats()
	if len(st.Voters) != 3 {
		t.Fatalf("voters = %v", st.Voters)
	}
}

func TestLeaderKilledNoAcknowledgedWriteLost(t *testing.T) {
	nodes := cluster3(t, nil)
	l := leaderOf(t, nodes...)
	const writers, total = 4, 200
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < total; i += writers {
				if _, err := l.store.Create(ctxT(t, 10*time.Second), KindAsset, fmt.Sprintf("a%03d", i), testAsset("x")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("write: %v", err)
	}
	l.kill()
	var rest []*testNode
	for _, n := range nodes {
		if n != l {
			rest = append(rest, n)
		}
	}
	nl := leaderOf(t, rest...)
	idx, err := nl.store.ReadIndex(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rest {
		if err := n.store.WaitApplied(ctxT(t, 5*time.Second), idx); err != nil {
			t.Fatal(err)
		}
		assets, err := n.store.Assets()
		if err != nil || len(assets) != total {
			t.Fatalf("%s: %d assets after failover (want %d), %v", n.id, len(assets), total, err)
		}
	}
	mustCreate(t, nl.store, KindAsset, "after-failover", testAsset("x"))
}

func TestNonvoterReceivesEverything(t *testing.T) {
	n1 := newTestNode(t, "n1", true, nil)
	leaderOf(t, n1)
	mustCreate(t, n1.store, KindCourse, "c1", &Course{Title: "C", Visibility: VisibilityPublic})
	edge := newTestNode(t, "edge", false, func(c *Config) { c.Voter = false })
	if err := n1.store.AddNonvoter("edge", edge.addr); err != nil {
		t.Fatal(err)
	}
	res := mustCreate(t, n1.store, KindSite, "campus", &Site{CIDRs: []string{"10.0.0.0/8"}, P2PPolicy: P2POn})
	if err := edge.store.WaitApplied(ctxT(t, 5*time.Second), res.Index); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(dump(t, n1.store), dump(t, edge.store)) {
		t.Fatal("non-voter replica differs from the leader")
	}
	st, _ := n1.store.Stats()
	if len(st.Voters) != 1 || len(st.Nonvoters) != 1 || st.Nonvoters[0] != "edge" {
		t.Fatalf("stats = %+v", st)
	}
	if err := n1.store.RemoveServer("edge"); err != nil {
		t.Fatal(err)
	}
}

func TestFollowerCatchesUpThroughSnapshot(t *testing.T) {
	tune := func(c *Config) {
		c.SnapshotThreshold = 50
		c.TrailingLogs = 10
		c.SnapshotInterval = 100 * time.Millisecond
	}
	nodes := cluster3(t, tune)
	l := leaderOf(t, nodes...)
	var lagger *testNode
	for _, n := range nodes {
		if n != l {
			lagger = n
			break
		}
	}
	lagger.stop()
	var last uint64
	for i := range 150 {
		last = mustCreate(t, l.store, KindAsset, fmt.Sprintf("a%03d", i), testAsset("x")).Index
	}
	if err := l.store.Snapshot(); err != nil {
		t.Fatal(err)
	}
	lagger.start()
	if err := lagger.store.WaitApplied(ctxT(t, 15*time.Second), last); err != nil {
		t.Fatal(err)
	}
	// raft records the installed snapshot just after the FSM restore that
	// WaitApplied sees, so poll for it.
	var st Stats
	err := poll(ctxT(t, 5*time.Second), func() bool {
		st, _ = lagger.store.Stats()
		return st.LastSnapshotIndex != 0
	})
	if err != nil {
		t.Fatalf("lagging follower did not install a snapshot: %+v", st)
	}
	if !maps.Equal(dump(t, l.store), dump(t, lagger.store)) {
		t.Fatal("caught-up follower differs from the leader")
	}
}
