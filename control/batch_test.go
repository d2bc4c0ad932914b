package control

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func encodeT(t *testing.T, c Command) []byte {
	t.Helper()
	if c.At.IsZero() {
		c.At = testAt
	}
	b, err := EncodeCommand(&c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// applyBatch applies one batch entry of cmds at the harness's next index.
func (h *harness) applyBatch(cmds ...[]byte) *batchResult {
	h.t.Helper()
	entry, err := encodeBatch(cmds)
	if err != nil {
		h.t.Fatal(err)
	}
	h.idx++
	res, ok := h.f.Apply(&raft.Log{Index: h.idx, Type: raft.LogCommand, Data: entry}).(*batchResult)
	if !ok || len(res.results) != len(cmds) {
		h.t.Fatalf("batch result = %#v", res)
	}
	return res
}

func TestDecodeBatch(t *testing.T) {
	a := []byte("\x01{}")
	good, err := encodeBatch([][]byte{a, []byte("\x01x")})
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := decodeBatch(good)
	if err != nil || len(cmds) != 2 || !bytes.Equal(cmds[0], a) || string(cmds[1]) != "\x01x" {
		t.Fatalf("decode = %q, %v", cmds, err)
	}
	huge := binary.AppendUvarint([]byte{BatchVersion}, MaxBatchCommands+1)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"single command", a},
		{"zero count", []byte{BatchVersion, 0}},
		{"count over limit", append(huge, make([]byte, 2*MaxBatchCommands+4)...)},
		{"count over bytes", []byte{BatchVersion, 5, 1, 1}},
		{"zero length", []byte{BatchVersion, 1, 0, 1}},
		{"truncated", []byte{BatchVersion, 1, 9, 1, 2}},
		{"trailing", append(bytes.Clone(good), 0)},
		{"bad varint", []byte{BatchVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"too big", append([]byte{BatchVersion}, make([]byte, MaxEntrySize)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if cmds, err := decodeBatch(tc.b); err == nil {
				t.Fatalf("accepted %d commands", len(cmds))
			}
		})
	}
	if _, err := encodeBatch(nil); err == nil {
		t.Fatal("empty batch encoded")
	}
}

// TestBatchMixedResults: every command of a batch entry gets its own
// result; a bad command fails alone; two updates of one record apply in
// order, the second matching the first's revision.
func TestBatchMixedResults(t *testing.T) {
	h := newHarness(t)
	h.ok(create(KindAsset, "a0", testAsset("a0"))) // index 1, revision 1
	v1, v2 := testAsset("a1"), testAsset("a1")
	v2.Title = "second"
	res := h.applyBatch(
		encodeT(t, create(KindAsset, "a1", testAsset("a1"))),                                       // rev 2
		encodeT(t, create(KindAsset, "a1", testAsset("a1"))),                                       // 409
		[]byte("\x01{\"op\":\"bogus\"}"),                                                           // invalid
		encodeT(t, update(KindAsset, "a1", 2, v1)),                                                 // rev 3, if-match the first
		encodeT(t, update(KindAsset, "a1", 3, v2)),                                                 // rev 4, if-match the update
		encodeT(t, update(KindAsset, "a1", 3, v1)),                                                 // 409, stale
		encodeT(t, Command{Op: OpDelete, Kind: KindAsset, ID: "nope"}),                             // 404
		encodeT(t, Command{Op: OpDelete, Kind: KindAsset, ID: "a0", IfMatch: 1}),                   // rev 5
		encodeT(t, Command{Op: OpRollback, Kind: KindAsset, ID: "a0", ToRevision: 1, IfMatch: 0}),  // rev 6
		encodeT(t, Command{Op: OpRollback, Kind: KindAsset, ID: "a1", ToRevision: 99, IfMatch: 0}), // 404
	)
	want := []struct {
		rev  uint64
		code Code
	}{{2, ""}, {0, CodeConflict}, {0, CodeInvalid}, {3, ""}, {4, ""}, {0, CodeConflict}, {0, CodeNotFound}, {5, ""}, {6, ""}, {0, CodeNotFound}}
	for i, w := range want {
		r := res.results[i]
		if r.Index != 2 {
			t.Errorf("command %d: index %d, want 2", i, r.Index)
		}
		switch {
		case w.code == "" && (r.Err != nil || r.Revision != w.rev):
			t.Errorf("command %d: revision %d err %v, want revision %d", i, r.Revision, r.Err, w.rev)
		case w.code != "" && (r.Err == nil || r.Err.Code != w.code):
			t.Errorf("command %d: err %v, want %s", i, r.Err, w.code)
		}
	}
	if ce := res.results[5].Err; ce == nil || ce.Revision != 4 {
		t.Errorf("stale if-match carries %v, want current revision 4", ce)
	}
	var a Asset
	h.get(KindAsset, "a1", &a)
	if a.Title != "second" || a.Revision != 4 {
		t.Fatalf("a1 = %+v", a)
	}
	// The next single-command entry continues the counter (past index 3).
	if rev := h.ok(create(KindAsset, "a2", testAsset("a2"))); rev != 7 {
		t.Fatalf("revision after the batch = %d, want 7", rev)
	}
}

func TestBatchEntryThatCannotBeSplitFailsWhole(t *testing.T) {
	h := newHarness(t)
	h.idx++
	res, ok := h.f.Apply(&raft.Log{Index: h.idx, Type: raft.LogCommand, Data: []byte{BatchVersion, 3, 1}}).(*applyResult)
	if !ok || res.Err == nil || res.Err.Code != CodeInvalid {
		t.Fatalf("result = %#v", res)
	}
	out, err := splitResponse(res, 3)
	if err != nil || len(out) != 3 || out[2].Err == nil {
		t.Fatalf("split = %v, %v", out, err)
	}
}

// TestRevisionCounterSurvivesSnapshotAndRestart: the counter is in the
// catalog file, so a restored replica and a reopened one continue it.
func TestRevisionCounterSurvivesSnapshotAndRestart(t *testing.T) {
	h := newHarness(t)
	h.applyBatch(encodeT(t, create(KindSite, "s1", testSite("s1"))), encodeT(t, create(KindSite, "s2", testSite("s2"))),
		encodeT(t, create(KindSite, "s3", testSite("s3")))) // index 1, revisions 1..3
	snap, err := h.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()

	dir := t.TempDir()
	dst, err := openFSM(filepath.Join(dir, "catalog.db"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.Restore(io.NopCloser(sink)); err != nil {
		t.Fatal(err)
	}
	h2 := &harness{t: t, f: dst, idx: 1}
	if rev := h2.ok(create(KindSite, "s4", testSite("s4"))); rev != 4 {
		t.Fatalf("revision after restore = %d, want 4", rev)
	}
	if err := dst.close(); err != nil {
		t.Fatal(err)
	}
	dst, err = openFSM(filepath.Join(dir, "catalog.db"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dst.close() })
	h2.f = dst
	res := h2.applyBatch(encodeT(t, create(KindSite, "s5", testSite("s5"))), encodeT(t, create(KindSite, "s6", testSite("s6"))))
	if res.results[0].Revision != 5 || res.results[1].Revision != 6 {
		t.Fatalf("revisions after restart = %d, %d, want 5, 6", res.results[0].Revision, res.results[1].Revision)
	}
}

// TestOldSingleCommandLogReplays: a log written before batching (one
// command per entry, revisions = raft indexes, no counter in the catalog)
// replays to the same revisions, and later batches continue above them.
func TestOldSingleCommandLogReplays(t *testing.T) {
	n := newTestNode(t, "solo", true, nil)
	leaderOf(t, n)
	var last uint64
	for i := range 5 {
		b := encodeT(t, create(KindAsset, fmt.Sprintf("a%d", i), testAsset("x")))
		f := n.store.raft.Apply(b, 5*time.Second) // exactly what the old leader proposed
		if err := f.Error(); err != nil {
			t.Fatal(err)
		}
		if r := f.Response().(*applyResult); r.Err != nil || r.Revision != f.Index() {
			t.Fatalf("old entry: revision %d at index %d (%v)", r.Revision, f.Index(), r.Err)
		}
		last = f.Index()
	}
	// A crash: the catalog is rebuilt from the log alone.
	n.kill()
	if err := os.Remove(filepath.Join(n.dir, "catalog.db.clean")); err != nil {
		t.Fatal(err)
	}
	n.start()
	leaderOf(t, n)
	if err := n.store.WaitApplied(ctxT(t, 5*time.Second), last); err != nil {
		t.Fatal(err)
	}
	a, err := n.store.Asset("a4")
	if err != nil || a.Revision != last {
		t.Fatalf("a4 after replay = %+v, %v; want revision %d", a, err, last)
	}
	res := mustCreate(t, n.store, KindAsset, "new", testAsset("x"))
	if res.Revision <= last || res.Index <= last {
		t.Fatalf("new write revision %d index %d, want > %d", res.Revision, res.Index, last)
	}
}

// TestConcurrentWritesShareEntries: concurrent writers on a 3-voter
// cluster each get their own result; writes share log entries; the
// duplicate creates of one id fail alone; every replica agrees.
func TestConcurrentWritesShareEntries(t *testing.T) {
	nodes := cluster3(t, nil)
	l := leaderOf(t, nodes...)
	const writers = 48
	results := make([]*Result, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("s%d", i)
			if i%8 == 7 {
				id = "dup"
			}
			results[i], errs[i] = l.store.Create(ctxT(t, 20*time.Second), KindSite, id, testSite(id))
		})
	}
	wg.Wait()
	revs, indexes := map[uint64]bool{}, map[uint64]bool{}
	dupOK := 0
	var last uint64
	for i := range writers {
		if i%8 == 7 {
			if errs[i] == nil {
				dupOK++
			} else if !errors.Is(errs[i], ErrConflict) {
				t.Fatalf("duplicate create: %v", errs[i])
			}
		} else if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		if r := results[i]; r != nil {
			if revs[r.Revision] {
				t.Fatalf("revision %d given twice", r.Revision)
			}
			revs[r.Revision], indexes[r.Index] = true, true
			last = max(last, r.Index)
		}
	}
	if dupOK != 1 {
		t.Fatalf("%d duplicate creates succeeded, want 1", dupOK)
	}
	t.Logf("%d writes in %d entries", len(revs), len(indexes))
	want := dump(t, l.store)
	for _, n := range nodes {
		if err := n.store.WaitApplied(ctxT(t, 10*time.Second), last); err != nil {
			t.Fatal(err)
		}
		if got := dump(t, n.store); len(got) != len(want) {
			t.Fatalf("%s holds %d entries, leader %d", n.id, len(got), len(want))
		}
	}
}

func testSite(name string) *Site {
	return &Site{Name: name, CIDRs: []string{"10.0.0.0/8"}, P2PPolicy: P2POn}
}

func TestBatcherLimits(t *testing.T) {
	b := &batcher{maxCount: 3, maxBytes: 100}
	for _, n := range []int{40, 40, 40, 10, 200, 1} {
		b.queue = append(b.queue, &pending{data: make([]byte, n)})
	}
	var sizes []int
	for len(b.queue) > 0 {
		sizes = append(sizes, len(b.take()))
	}
	// 40+40 fit (with overhead), the third 40 does not; 40+10 fit, 200
	// goes alone, then 1.
	if fmt.Sprint(sizes) != "[2 2 1 1]" {
		t.Fatalf("batches = %v", sizes)
	}
}

// TestWithdrawBeforeProposal: a write whose caller gave up while it was
// still queued never reaches the log; one already proposed stays.
func TestWithdrawBeforeProposal(t *testing.T) {
	b := &batcher{maxCount: 1, maxBytes: 1 << 20}
	p1, p2 := &pending{data: []byte{1}}, &pending{data: []byte{2}}
	b.queue = []*pending{p1, p2}
	if got := b.take(); len(got) != 1 || got[0] != p1 {
		t.Fatalf("take = %v", got)
	}
	if b.withdraw(p1) {
		t.Fatal("withdrew a proposed write")
	}
	if !b.withdraw(p2) || len(b.queue) != 0 {
		t.Fatalf("queued write not withdrawn: %d left", len(b.queue))
	}
}
