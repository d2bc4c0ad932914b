package segsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/cache"
	"github.com/classmesh/classmesh/node/vod"
)

// The Source with fakes for its ring, peers and packager and a real
// in-memory cache (the single flight is the cache's, and the fill source
// label is read from the cache's metrics).

const self = "self"

// body is the deterministic packaging of segment n of a rendition.
func body(rend string, n int, size int64) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(len(rend) + n*7 + i*13)
	}
	return b
}

// fakePackager is a library of one asset "demo" with renditions "720p"
// (source "src-720p", 4 segments) and a failed asset "broken".
type fakePackager struct {
	mu     sync.Mutex
	writes int
	fail   error
	assets map[string]*vod.Asset
}

func newPackager() *fakePackager {
	segs := make([]vod.Segment, 4)
	for i := range segs {
		segs[i] = vod.Segment{Number: i, Size: int64(100_000 + 1000*i)}
	}
	return &fakePackager{assets: map[string]*vod.Asset{
		"demo": {ID: "demo", Status: vod.StatusReady, Renditions: []*vod.Rendition{
			{ID: "720p", SourceID: "src-720p", Segments: segs},
		}},
		"broken": {ID: "broken", Status: vod.StatusFailed, Reason: "720p.mp4: malformed"},
	}}
}

func (p *fakePackager) Asset(id string) (*vod.Asset, bool) { a, ok := p.assets[id]; return a, ok }

func (p *fakePackager) CacheKey(a *vod.Asset, r *vod.Rendition, name string) string {
	return a.ID + "/" + r.ID + "/fp/" + name
}

func (p *fakePackager) WriteSegment(ctx context.Context, a *vod.Asset, r *vod.Rendition, n int, w io.Writer) error {
	p.mu.Lock()
	p.writes++
	fail := p.fail
	p.mu.Unlock()
	if fail != nil {
		return fail
	}
	b := body(r.ID, n, r.Segments[n].Size)
	for len(b) > 0 { // in chunks, as packaging writes
		k := min(len(b), 8<<10)
		if _, err := w.Write(b[:k]); err != nil {
			return err
		}
		b = b[k:]
	}
	return nil
}

func (p *fakePackager) count() int { p.mu.Lock(); defer p.mu.Unlock(); return p.writes }

// fakeRing names one owner for every key.
type fakeRing struct {
	owner string // "" for an empty view
}

func (r fakeRing) Owner(key, region string) (Peer, uint64, bool) {
	if r.owner == "" {
		return Peer{}, 0, false
	}
	return Peer{ID: r.owner, Addr: r.owner + ":4433"}, 7, true
}

// fakePeers serves the deterministic body, or fails after failAfter
// bytes (failAfter >= 0), and records what it was asked.
type fakePeers struct {
	failAfter int64
	mu        sync.Mutex
	asked     []Request
	owners    []string
}

func (p *fakePeers) Fetch(ctx context.Context, owner Peer, req Request, w io.Writer) (int64, error) {
	p.mu.Lock()
	p.asked = append(p.asked, req)
	p.owners = append(p.owners, owner.ID)
	p.mu.Unlock()
	b := body(req.Ref.Rendition, req.Ref.Number, int64(100_000+1000*req.Ref.Number))
	if p.failAfter >= 0 {
		b = b[:p.failAfter]
	}
	n, err := w.Write(b)
	if err != nil {
		return int64(n), err
	}
	if p.failAfter >= 0 {
		return int64(n), errors.New("peer: stream reset")
	}
	return int64(n), nil
}

// response records what Serve wrote.
type response struct {
	size   int64
	sum    []byte
	header bool
	body   bytes.Buffer
}

func (r *response) WriteHeader(size int64, sum []byte) error {
	r.header, r.size, r.sum = true, size, sum
	return nil
}

func (r *response) Write(p []byte) (int, error) { return r.body.Write(p) }

type env struct {
	src   *Source
	pkg   *fakePackager
	peers *fakePeers
	reg   *prometheus.Registry
}

func newEnv(t *testing.T, owner string, peerFailAfter int64) *env {
	t.Helper()
	reg := prometheus.NewRegistry()
	c, err := cache.New(cache.Config{MemoryBytes: 64 << 20, Registerer: reg, FillTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e := &env{pkg: newPackager(), peers: &fakePeers{failAfter: peerFailAfter}, reg: reg}
	e.src, err = New(Config{
		Self: self, Region: "eu", Cache: c, Ring: fakeRing{owner}, Peers: e.peers, Packager: e.pkg,
		Logger: slog.New(slog.DiscardHandler), Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// metric returns the value of a counter in the registry: name, and the
// label value of its one label ("" for none).
func (e *env) metric(t *testing.T, name, label string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || (len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() == label) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func readAll(t *testing.T, e *cache.Entry) []byte {
	t.Helper()
	defer e.Release()
	if b := e.Bytes(); b != nil {
		return b
	}
	rd := e.NewReader(t.Context())
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGet: a learner's request at hop 0, by who owns the segment.
func TestGet(t *testing.T) {
	want := body("720p", 2, 102_000)
	tests := []struct {
		name       string
		owner      string
		failAfter  int64 // -1: the owner serves
		origin     int   // packagings
		peerAsks   int
		fillSource string
	}{
		{"this node owns it: origin", self, -1, 1, 0, "origin"},
		{"empty view: origin", "", -1, 1, 0, "origin"},
		{"another node owns it: peer", "b", -1, 0, 1, "peer"},
		{"owner fails before a byte: origin", "b", 0, 1, 1, "origin"},
		{"owner fails mid-segment: resume from the origin", "b", 40_000, 1, 1, "origin"},
		{"owner fails one byte short: resume", "b", 101_999, 1, 1, "origin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.owner, tc.failAfter)
			ent, err := e.src.Get(t.Context(), Segment("demo", "720p", 2))
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, ent); !bytes.Equal(got, want) {
				t.Fatalf("body of %d bytes differs from the segment (%d bytes)", len(got), len(want))
			}
			if e.pkg.count() != tc.origin || len(e.peers.asked) != tc.peerAsks {
				t.Fatalf("origin packagings %d, peer requests %d; want %d, %d", e.pkg.count(), len(e.peers.asked), tc.origin, tc.peerAsks)
			}
			if f := e.metric(t, "classmesh_cache_fills_total", tc.fillSource); f != 1 {
				t.Errorf("fills from %q = %v, want 1", tc.fillSource, f)
			}
			if tc.peerAsks > 0 {
				req := e.peers.asked[0]
				wantReq := Request{Ref: Segment("demo", "720p", 2), Hop: 1, Epoch: 7, Requester: self, Region: "eu", Source: "src-720p"}
				if req != wantReq {
					t.Errorf("asked the owner %+v, want %+v", req, wantReq)
				}
			}
			// A second request is a hit: nothing more is filled.
			ent, err = e.src.Get(t.Context(), Segment("demo", "720p", 2))
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, ent)
			if e.pkg.count() != tc.origin || len(e.peers.asked) != tc.peerAsks {
				t.Errorf("a cached segment was filled again")
			}
		})
	}
}

// TestServe: another node's fill request, by hop, requester and the owner
// this node sees. Forwarding happens once, at hop 1 only, never back to
// the requester.
func TestServe(t *testing.T) {
	tests := []struct {
		name      string
		owner     string
		hop       uint8
		requester string
		forward   bool
	}{
		{"hop 1, this node owns it", self, 1, "a", false},
		{"hop 1, another owner: forward once", "c", 1, "a", true},
		{"hop 1, the owner seen is the requester", "a", 1, "a", false},
		{"hop 2, another owner: never forward again", "c", 2, "a", false},
		{"hop 0 is read as hop 1", "c", 0, "a", true},
		{"hop 1, empty view", "", 1, "a", false},
	}
	want := body("720p", 1, 101_000)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.owner, -1)
			var w response
			err := e.src.Serve(t.Context(), Request{
				Ref: Segment("demo", "720p", 1), Hop: tc.hop, Requester: tc.requester, Region: "us", Source: "src-720p",
			}, &w)
			if err != nil {
				t.Fatal(err)
			}
			if !w.header || w.size != int64(len(want)) || !bytes.Equal(w.body.Bytes(), want) {
				t.Fatalf("header %v size %d, %d body bytes; want %d", w.header, w.size, w.body.Len(), len(want))
			}
			forwards := e.metric(t, "classmesh_fill_forwards_total", "")
			switch {
			case tc.forward:
				if len(e.peers.asked) != 1 || e.pkg.count() != 0 || forwards != 1 {
					t.Fatalf("peer requests %d, packagings %d, forwards %v; want one forward", len(e.peers.asked), e.pkg.count(), forwards)
				}
				req := e.peers.asked[0]
				if req.Hop != 2 || req.Requester != self || req.Region != "us" || e.peers.owners[0] != tc.owner {
					t.Errorf("forwarded %+v to %s; want hop 2 from %s in region us to %s", req, e.peers.owners[0], self, tc.owner)
				}
			default:
				if len(e.peers.asked) != 0 || e.pkg.count() != 1 || forwards != 0 {
					t.Fatalf("peer requests %d, packagings %d, forwards %v; want the origin", len(e.peers.asked), e.pkg.count(), forwards)
				}
			}
		})
	}
}

// TestRefusals: what neither path fills, with the library's sentinels
// that node maps to HTTP and fill statuses.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		ref    SegmentRef
		source string
		want   error
	}{
		{"no asset", Segment("nope", "720p", 0), "", vod.ErrNotFound},
		{"failed asset", Segment("broken", "720p", 0), "", vod.ErrAssetFailed},
		{"no rendition", Segment("demo", "1080p", 0), "", vod.ErrNotFound},
		{"segment out of range", Segment("demo", "720p", 4), "", vod.ErrNotFound},
		{"init is never filled", SegmentRef{Asset: "demo", Rendition: "720p", Kind: KindInit}, "", vod.ErrNotFound},
		{"zero kind", SegmentRef{Asset: "demo", Rendition: "720p"}, "", vod.ErrNotFound},
		{"other source identity", Segment("demo", "720p", 0), "src-old", vod.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, self, -1)
			var w response
			err := e.src.Serve(t.Context(), Request{Ref: tc.ref, Hop: 1, Requester: "a", Source: tc.source}, &w)
			if !errors.Is(err, tc.want) || w.header {
				t.Fatalf("Serve: %v (header %v), want %v before any header", err, w.header, tc.want)
			}
			if tc.source == "" {
				if _, err := e.src.Get(t.Context(), tc.ref); !errors.Is(err, tc.want) {
					t.Fatalf("Get: %v, want %v", err, tc.want)
				}
			}
			if e.pkg.count() != 0 || len(e.peers.asked) != 0 {
				t.Fatal("a refused request reached the origin or a peer")
			}
		})
	}
}

// TestFailedFillCachesNothing: an origin failure reaches the caller, and
// the next request fills again.
func TestFailedFillCachesNothing(t *testing.T) {
	e := newEnv(t, self, -1)
	e.pkg.fail = fmt.Errorf("%w: origin down", vod.ErrOrigin)
	if _, err := e.src.Get(t.Context(), Segment("demo", "720p", 0)); !errors.Is(err, vod.ErrOrigin) {
		t.Fatalf("Get with the origin down: %v, want %v", err, vod.ErrOrigin)
	}
	e.pkg.mu.Lock()
	e.pkg.fail = nil
	e.pkg.mu.Unlock()
	ent, err := e.src.Get(t.Context(), Segment("demo", "720p", 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, ent); !bytes.Equal(got, body("720p", 0, 100_000)) || e.pkg.count() != 2 {
		t.Fatalf("after recovery: %d bytes, %d packagings", len(got), e.pkg.count())
	}
}

// TestConcurrentRequestsFillOnce: learners and another node asking for
// one cold segment at once cause one packaging.
func TestConcurrentRequestsFillOnce(t *testing.T) {
	e := newEnv(t, self, -1)
	want := body("720p", 3, 103_000)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			ref := Segment("demo", "720p", 3)
			var got []byte
			if i%4 == 0 {
				var w response
				if err := e.src.Serve(t.Context(), Request{Ref: ref, Hop: 1, Requester: "a"}, &w); err != nil {
					errs <- err
					return
				}
				got = w.body.Bytes()
			} else {
				ent, err := e.src.Get(t.Context(), ref)
				if err != nil {
					errs <- err
					return
				}
				defer ent.Release()
				rd := ent.NewReader(t.Context())
				defer rd.Close()
				if got, err = io.ReadAll(rd); err != nil {
					errs <- err
					return
				}
			}
			if !bytes.Equal(got, want) {
				errs <- fmt.Errorf("request %d: %d bytes differ", i, len(got))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.pkg.count(); n != 1 {
		t.Fatalf("%d packagings for 40 concurrent requests, want 1", n)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Self: self, Cache: &cache.Cache{}, Ring: fakeRing{}, Peers: &fakePeers{}, Packager: newPackager()}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"complete", func(*Config) {}, true},
		{"no self", func(c *Config) { c.Self = "" }, false},
		{"no cache", func(c *Config) { c.Cache = nil }, false},
		{"no ring", func(c *Config) { c.Ring = nil }, false},
		{"no peers", func(c *Config) { c.Peers = nil }, false},
		{"no packager", func(c *Config) { c.Packager = nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			if err := c.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Fatalf("Validate = %v", err)
			}
		})
	}
}
