package control

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/quic-go/quic-go"
)

// TestWritesEndWhenTheLeaderDies reproduces finding 7 of issue 11: writes
// forwarded to a leader that dies hung until QUIC's idle timeout (30 s)
// and then failed with an untyped error (500). A crashed leader answers
// nothing; here its forward handler stops answering and its raft stops
// without handing leadership over. The writes in flight must end on
// their own (long before their callers' deadline) with an error that says
// the outcome is unknown or the catalog is unavailable (503), and the
// next write goes to the new leader.
func TestWritesEndWhenTheLeaderDies(t *testing.T) {
	nodes := fwCluster3(t)
	leader, followers := fwLeader(t, nodes)
	mustApply := func(n *fwNode, id string) {
		t.Helper()
		if _, err := n.fwd.Apply(ctxT(t, 10*time.Second), createCmd(t, KindAsset, id, testAsset(id))); err != nil {
			t.Fatalf("write %s: %v", id, err)
		}
	}
	mustApply(followers[0], "before")

	// The leader stops answering forwarded requests: they now hang.
	leader.tr.Handle(ForwardALPN, func(ctx context.Context, _ transport.PeerInfo, s *quic.Stream) {
		<-ctx.Done()
	})
	const writers = 4
	const callerDeadline = 25 * time.Second
	type outcome struct {
		err       error
		callerEnd bool
		took      time.Duration
	}
	out := make(chan outcome, writers)
	var started sync.WaitGroup
	for i := range writers {
		started.Add(1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), callerDeadline)
			defer cancel()
			id := fmt.Sprintf("inflight-%d", i)
			started.Done()
			start := time.Now()
			_, err := followers[i%2].fwd.Apply(ctx, createCmd(t, KindAsset, id, testAsset(id)))
			out <- outcome{err: err, callerEnd: ctx.Err() != nil, took: time.Since(start)}
		}()
	}
	started.Wait()
	time.Sleep(300 * time.Millisecond) // let the writes reach the leader
	killed := time.Now()
	leader.store.closeOnce.Do(func() { leader.store.closeErr = leader.store.closeParts() })

	for range writers {
		o := <-out
		t.Logf("in-flight write ended %v after the leader died (%v in all): %v", time.Since(killed).Round(time.Millisecond), o.took.Round(time.Millisecond), o.err)
		if o.err == nil {
			continue // it may have gone to the new leader in time
		}
		if o.callerEnd {
			t.Fatalf("a write in flight ran until its caller's deadline: %v", o.err)
		}
		if !errors.Is(o.err, ErrIndeterminate) && !errors.Is(o.err, ErrUnavailable) {
			t.Fatalf("in-flight write failed with %v, want ErrIndeterminate or ErrUnavailable", o.err)
		}
	}
	// The survivors elect a leader and take writes again.
	var live []*fwNode
	for _, n := range nodes {
		if n != leader {
			live = append(live, n)
		}
	}
	if err := poll(ctxT(t, 15*time.Second), func() bool { return live[0].store.IsLeader() || live[1].store.IsLeader() }); err != nil {
		t.Fatal("no new leader")
	}
	mustApply(followers[0], "after")
}
