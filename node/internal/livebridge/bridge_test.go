package livebridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/relay"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/node/live"
)

// fakeCatalog holds live sessions and records writes.
type fakeCatalog struct {
	mu       sync.Mutex
	sessions map[string]control.LiveSession
	applied  []control.Command
	onApply  chan struct{} // when not nil, gets a value per write
}

func (c *fakeCatalog) Sessions() ([]control.LiveSession, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []control.LiveSession
	for _, s := range c.sessions {
		out = append(out, s)
	}
	return out, nil
}

func (c *fakeCatalog) Session(id string) (*control.LiveSession, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sessions[id]
	if !ok {
		return nil, control.ErrNotFound
	}
	return &s, nil
}

func (c *fakeCatalog) Apply(_ context.Context, cmd control.Command) (*control.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied = append(c.applied, cmd)
	if c.onApply != nil {
		c.onApply <- struct{}{}
	}
	return &control.Result{}, nil
}

// fakeMembers is a fixed membership; owner answers Owner for any key.
type fakeMembers struct {
	self    cluster.Member
	members []cluster.Member
	owner   *cluster.Member
}

func (m fakeMembers) Self() cluster.Member { return m.self }
func (m fakeMembers) Members() []cluster.Member {
	return append([]cluster.Member{m.self}, m.members...)
}
func (m fakeMembers) Owner(string, string) (cluster.Member, bool) {
	if m.owner == nil {
		return cluster.Member{}, false
	}
	return *m.owner, true
}

func member(id, region string) cluster.Member {
	return cluster.Member{ID: id, Region: region, QUICAddr: id + ":4433", State: cluster.StateAlive}
}

// fakeRelay records what the bridge publishes and hands out readers
// prepared by the test.
type fakeRelay struct {
	mu      sync.Mutex
	writers map[string]*fakeWriter
	readers map[string]chan relay.Object // closed: ErrTrackEnded
	froms   []string
}

func (r *fakeRelay) Publish(track string) (TrackWriter, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := &fakeWriter{closed: make(chan struct{})}
	r.writers[track] = w
	return w, nil
}

func (r *fakeRelay) Subscribe(_ context.Context, from, track string) (TrackReader, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.froms = append(r.froms, from)
	ch, ok := r.readers[track]
	if !ok {
		return nil, relay.ErrTrackNotFound
	}
	return fakeReader(ch), nil
}

type fakeWriter struct {
	mu      sync.Mutex
	log     []string
	closed  chan struct{}
	closeMu sync.Once
}

func (w *fakeWriter) SetInit(b []byte) { w.add("init " + string(b)) }
func (w *fakeWriter) Write(o relay.Object) {
	w.add(fmt.Sprintf("%d.%d %s", o.Group, o.ID, o.Payload))
}
func (w *fakeWriter) Close() { w.closeMu.Do(func() { close(w.closed) }) }
func (w *fakeWriter) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = append(w.log, s)
}

type fakeReader chan relay.Object

func (r fakeReader) Next(ctx context.Context) (relay.Object, error) {
	select {
	case o, ok := <-r:
		if !ok {
			return relay.Object{}, relay.ErrTrackEnded
		}
		return o, nil
	case <-ctx.Done():
		return relay.Object{}, ctx.Err()
	}
}
func (r fakeReader) Close() {}

type env struct {
	b       *Bridge
	mgr     *live.Manager
	cat     *fakeCatalog
	relay   *fakeRelay
	reg     *prometheus.Registry
	mu      sync.Mutex
	done    []string // OnSegment calls
	adopted []string
}

func newEnv(t *testing.T, members fakeMembers, parent string) *env {
	t.Helper()
	lc := live.DefaultConfig()
	lc.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	lc.Registerer = prometheus.NewRegistry()
	e := &env{cat: &fakeCatalog{sessions: map[string]control.LiveSession{}},
		relay: &fakeRelay{writers: map[string]*fakeWriter{}, readers: map[string]chan relay.Object{}},
		reg:   prometheus.NewRegistry()}
	lc.OnEnd = func(id string, rec live.Recording) { e.b.Ended(id, rec) }
	mgr, err := live.NewManager(lc)
	if err != nil {
		t.Fatal(err)
	}
	e.mgr = mgr
	e.b, err = New(Config{Manager: mgr, Relay: e.relay, Catalog: e.cat, Members: members, RelayParent: parent,
		Renditions: []string{live.RenditionVideo},
		Adopt: func(id string, _ live.Recording) string {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.adopted = append(e.adopted, id)
			return "rec-" + id
		},
		OnSegment: func(session, rendition string, _ *live.Track, msn int64) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.done = append(e.done, fmt.Sprintf("%s/%s/%d", session, rendition, msn))
		},
		Logger: lc.Logger, Registerer: e.reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.b.Close(); err != nil {
			t.Error(err)
		}
		_ = mgr.Close()
	})
	return e
}

func testPart(msn int64, index int) live.Part {
	return live.Part{MSN: msn, Index: index, Duration: 500 * time.Millisecond, SegmentEnd: index == 3,
		SegmentDuration: 2 * time.Second, TargetDuration: 2, PartTarget: 500 * time.Millisecond,
		Data: []byte(fmt.Sprintf("p%d.%d", msn, index))}
}

// TestUpstream: where a node subscribes to a live track.
func TestUpstream(t *testing.T) {
	self := member("self", "north")
	self.Self = true
	ingestSouth, ingestNorth := member("ingest", "south"), member("ingest", "north")
	relayNorth, parent := member("relay", "north"), member("parent", "north")
	dead := member("ingest", "south")
	dead.State = cluster.StateDead
	tests := []struct {
		name    string
		state   string
		ingest  string
		members []cluster.Member
		owner   *cluster.Member
		parent  string
		want    string
		ok      bool
	}{
		{"the ingest node in the same region", control.SessionLive, "ingest", []cluster.Member{ingestNorth}, &relayNorth, "", "ingest:4433", true},
		{"the region's relay for another region's ingest", control.SessionLive, "ingest", []cluster.Member{ingestSouth, relayNorth}, &relayNorth, "", "relay:4433", true},
		{"the region's relay is this node: the ingest node", control.SessionLive, "ingest", []cluster.Member{ingestSouth}, &self, "", "ingest:4433", true},
		{"--relay-parent by id", control.SessionLive, "ingest", []cluster.Member{ingestSouth, relayNorth, parent}, &relayNorth, "parent", "parent:4433", true},
		{"--relay-parent by address", control.SessionLive, "ingest", []cluster.Member{ingestNorth, parent}, nil, "parent:4433", "parent:4433", true},
		{"--relay-parent not a member", control.SessionLive, "ingest", []cluster.Member{ingestNorth}, nil, "gone", "ingest:4433", true},
		{"--relay-parent is this node", control.SessionLive, "ingest", []cluster.Member{ingestNorth}, nil, "self", "ingest:4433", true},
		{"published here", control.SessionLive, "self", nil, nil, "", "", false},
		{"not live", control.SessionScheduled, "", []cluster.Member{ingestNorth}, nil, "", "", false},
		{"ended", control.SessionEnded, "ingest", []cluster.Member{ingestNorth}, nil, "", "", false},
		{"the ingest node is dead", control.SessionLive, "ingest", []cluster.Member{dead}, nil, "", "", false},
		{"the ingest node is unknown", control.SessionLive, "ingest", nil, nil, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeMembers{self: self, members: tc.members, owner: tc.owner}, tc.parent)
			e.cat.sessions["s1"] = control.LiveSession{ID: "s1", State: tc.state, IngestNode: tc.ingest}
			got, ok := e.b.Upstream("s1/video")
			if got != tc.want || ok != tc.ok {
				t.Fatalf("Upstream = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	t.Run("unknown session", func(t *testing.T) {
		e := newEnv(t, fakeMembers{self: self}, "")
		if got, ok := e.b.Upstream("nosuch/video"); ok {
			t.Fatalf("Upstream = %q", got)
		}
	})
}

// TestLifecycle: Start twice is fine, Close runs once, nothing runs after
// Close.
func TestLifecycle(t *testing.T) {
	self := member("self", "")
	e := newEnv(t, fakeMembers{self: self}, "")
	ctx := t.Context()
	if err := e.b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.b.Start(ctx); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	if err := e.b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := e.b.Start(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	e.b.Ended("s1", live.Recording{})
	if err := e.b.Attach(ctx, "s1"); err == nil {
		t.Fatal("Attach after Close succeeded")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.adopted) != 0 {
		t.Fatalf("a recording was adopted after Close: %v", e.adopted)
	}
}

// TestFeedCopiesTrackToRelay: every part of a local track reaches the
// relay in order, segment ends are reported, and the relay track closes
// when the session ends; the ended session's recording is adopted and the
// catalog updated.
func TestFeedCopiesTrackToRelay(t *testing.T) {
	self := member("self", "")
	e := newEnv(t, fakeMembers{self: self}, "")
	sess, err := e.mgr.Remote("s1") // a session with tracks fed by hand
	if err != nil {
		t.Fatal(err)
	}
	e.b.feed(sess)
	w := e.relay.writers["s1/video"]
	if w == nil {
		t.Fatal("feed returned before publishing the relay track")
	}
	tr, err := sess.AddTrack(live.RenditionVideo)
	if err != nil {
		t.Fatal(err)
	}
	for m := range int64(2) {
		for i := range 4 {
			if err := tr.PutPart(testPart(m, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.mgr.End("s1"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the relay track was not closed after the session ended")
	}
	w.mu.Lock()
	got := fmt.Sprint(w.log)
	w.mu.Unlock()
	if want := "[0.0 p0.0 0.1 p0.1 0.2 p0.2 0.3 p0.3 1.0 p1.0 1.1 p1.1 1.2 p1.2 1.3 p1.3]"; got != want {
		t.Fatalf("relay objects %s\nwant %s", got, want)
	}
	e.mu.Lock()
	done := fmt.Sprint(e.done)
	e.mu.Unlock()
	if done != "[s1/video/0 s1/video/1]" {
		t.Fatalf("segments done: %s", done)
	}
}

// TestEndedAdoptsAndUpdatesCatalog: a session published here that ends
// has its recording adopted and the catalog session marked ended.
func TestEndedAdoptsAndUpdatesCatalog(t *testing.T) {
	self := member("self", "")
	e := newEnv(t, fakeMembers{self: self}, "")
	e.cat.sessions["s1"] = control.LiveSession{ID: "s1", State: control.SessionLive, IngestNode: "self"}
	e.cat.onApply = make(chan struct{}, 1)
	e.b.Ended("s1", live.Recording{})
	select {
	case <-e.cat.onApply:
	case <-time.After(10 * time.Second):
		t.Fatal("no catalog write")
	}
	e.cat.mu.Lock()
	defer e.cat.mu.Unlock()
	if len(e.cat.applied) != 1 || e.cat.applied[0].Op != control.OpUpdate || e.cat.applied[0].ID != "s1" {
		t.Fatalf("catalog writes %+v", e.cat.applied)
	}
	if e.adopted[0] != "s1" {
		t.Fatalf("adopted %v", e.adopted)
	}
}

// TestAttachFeedsRemoteSession: an edge subscribes through the relay,
// Attach returns once media is there, parts are listed, the relay delay
// is measured, and the session ends with the relay track.
func TestAttachFeedsRemoteSession(t *testing.T) {
	self := member("self", "")
	e := newEnv(t, fakeMembers{self: self, members: []cluster.Member{member("ingest", "")}}, "")
	e.cat.sessions["s1"] = control.LiveSession{ID: "s1", State: control.SessionLive, IngestNode: "ingest"}
	ch := make(chan relay.Object, 16)
	e.relay.readers["s1/video"] = ch
	for i := range 4 {
		p := testPart(0, i)
		ch <- relay.Object{Group: 0, ID: uint64(i), Header: live.MarshalPartHeader(p), Payload: p.Data, Created: time.Now()}
	}
	if err := e.b.Attach(t.Context(), "s1"); err != nil {
		t.Fatal(err)
	}
	if err := e.b.Attach(t.Context(), "s1"); err != nil { // a second viewer shares it
		t.Fatalf("second Attach: %v", err)
	}
	sess, ok := e.mgr.Lookup("s1")
	if !ok || !sess.Remote() {
		t.Fatal("no remote session")
	}
	close(ch)
	select {
	case <-sess.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end with its relay track")
	}
	tr, _ := sess.Track(live.RenditionVideo)
	if parts, ok := tr.Segment(0); !ok || len(parts) != 4 {
		t.Fatalf("segment 0: %d parts, %v", len(parts), ok)
	}
	if n := histogramCount(t, e.reg, "classmesh_live_relay_delay_seconds"); n != 4 {
		t.Fatalf("relay delay observed %d times, want 4 (one per part)", n)
	}
	e.relay.mu.Lock()
	defer e.relay.mu.Unlock()
	if fmt.Sprint(e.relay.froms) != "[ingest:4433]" {
		t.Fatalf("subscribed through %v", e.relay.froms)
	}
}

// TestAttachUnknownSession: no alive node publishes it.
func TestAttachUnknownSession(t *testing.T) {
	e := newEnv(t, fakeMembers{self: member("self", "")}, "")
	if err := e.b.Attach(t.Context(), "nosuch"); !errors.Is(err, live.ErrNotFound) {
		t.Fatalf("Attach: %v", err)
	}
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	return 0
}
