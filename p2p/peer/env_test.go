package peer

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/classmesh/classmesh/internal/testmedia"
	"github.com/classmesh/classmesh/p2p"
)

const testSwarm = "vod/test/v0"

var (
	mediaOnce sync.Once
	mediaDir  string // holds v/test/v0/{media.m3u8,init.mp4,seg-N.m4s}
	mediaErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if mediaDir != "" {
		_ = os.RemoveAll(mediaDir)
	}
	os.Exit(code)
}

// needTool skips (or in CI fails) when an external tool is missing.
func needTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
}

// testMedia encodes (once per test binary) a 20 s HLS fMP4 rendition with
// 2 s segments under a temporary /v/test/v0/.
func testMedia(t testing.TB) string {
	t.Helper()
	needTool(t, "ffmpeg")
	mediaOnce.Do(func() {
		root, err := os.MkdirTemp("", "classmesh-peer-test-")
		if err != nil {
			mediaErr = err
			return
		}
		mediaDir = root
		mediaErr = testmedia.WriteHLSRendition(filepath.Join(root, "v", "test", "v0"))
	})
	if mediaErr != nil {
		t.Fatal(mediaErr)
	}
	return mediaDir
}

// env is an edge for tests: a real tracker at /p2p/ws, hashes.json, and
// the test rendition served over HTTP from 127.0.0.1.
type env struct {
	srv      *httptest.Server
	tracker  *p2p.Tracker
	reg      *prometheus.Registry
	segs     [][]byte // seg-N.m4s contents by N
	mediaURL string
	wsURL    string
	api      *webrtc.API
}

func newEnv(t testing.TB, tcfg p2p.Config) *env {
	t.Helper()
	root := testMedia(t)
	e := &env{reg: prometheus.NewRegistry()}
	tcfg.Registerer = e.reg
	tr, err := p2p.NewTracker(tcfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.tracker = tr
	dir := filepath.Join(root, "v", "test", "v0")
	for n := 0; ; n++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("seg-%d.m4s", n)))
		if err != nil {
			break
		}
		e.segs = append(e.segs, b)
		tr.PutHash(testSwarm, uint64(n), sha256.Sum256(b), int64(len(b)))
	}
	if len(e.segs) < 8 {
		t.Fatalf("only %d segments encoded", len(e.segs))
	}
	mux := http.NewServeMux()
	mux.Handle("/p2p/ws", tr)
	mux.HandleFunc("/v/test/v0/hashes.json", func(w http.ResponseWriter, r *http.Request) {
		tr.ServeHashList(w, r, testSwarm)
	})
	mux.Handle("/v/", http.FileServer(http.Dir(root)))
	e.srv = httptest.NewServer(mux)
	e.mediaURL = e.srv.URL + "/v/test/v0/media.m3u8"
	e.wsURL = "ws" + e.srv.URL[len("http"):] + "/p2p/ws"
	e.api, err = NewAPI(APIConfig{Loopback: true, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = tr.Close()
		e.srv.Close()
	})
	return e
}

func (e *env) segURL(seq int) string { return fmt.Sprintf("%s/v/test/v0/seg-%d.m4s", e.srv.URL, seq) }

// newPeer starts a peer in the swarm; mod adjusts its config.
func (e *env) newPeer(t testing.TB, mod func(*Config)) *Peer {
	t.Helper()
	c := DefaultConfig()
	c.TrackerURL, c.MediaURL, c.API = e.wsURL, e.mediaURL, e.api
	if mod != nil {
		mod(&c)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// counter reads a prometheus counter (summed over labels).
func (e *env) counter(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += metricValue(m)
		}
	}
	return sum
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return 0
}
