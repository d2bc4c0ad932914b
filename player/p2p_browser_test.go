package player

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/p2p"
	"github.com/prometheus/client_golang/prometheus"
)

// p2pSide is one page's part of p2p.mjs's JSON line.
type p2pSide struct {
	Played         float64 `json:"played"`
	BytesFromPeers int64   `json:"bytesFromPeers"`
	BytesFromHTTP  int64   `json:"bytesFromHTTP"`
	BytesUploaded  int64   `json:"bytesUploaded"`
	PeerShare      float64 `json:"peerShare"`
	HashFailures   int     `json:"hashFailures"`
	Fatal          int     `json:"fatal"`
	Errors         []struct {
		Type, Details string
		Fatal         bool
	} `json:"errors"`
}

type p2pResult struct {
	OK     bool     `json:"ok"`
	Reason string   `json:"reason"`
	A      *p2pSide `json:"a"`
	B      *p2pSide `json:"b"`
}

// makeP2PHLS encodes 24 s of 320x180 video with audio as one fMP4 HLS
// rendition named like a classmesh edge does (init.mp4, seg-N.m4s from 0).
func makeP2PHLS(t *testing.T, ffmpeg, dir string) {
	t.Helper()
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "24",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-bf", "0",
		"-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-b:v", "400k",
		"-c:a", "aac", "-b:a", "64k", "-ac", "2",
		"-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "2", "-hls_playlist_type", "vod",
		"-hls_fmp4_init_filename", "init.mp4", "-start_number", "0",
		"-hls_segment_filename", filepath.Join(dir, "seg-%d.m4s"), filepath.Join(dir, "media.m3u8"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	master := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x180,CODECS=\"avc1.64000d,mp4a.40.2\"\n180p/media.m3u8\n"
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "master.m3u8"), []byte(master), 0o644); err != nil {
		t.Fatal(err)
	}
}

var segName = regexp.MustCompile(`^seg-(\d+)\.m4s$`)

// publishHashes tells the tracker every segment's SHA-256, except that the
// last segment gets a wrong one (what a corrupting peer would look like).
func publishHashes(t *testing.T, tr *p2p.Tracker, swarm, dir string) (last uint64) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[uint64][]byte{}
	for _, e := range entries {
		m := segName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		seq, _ := strconv.ParseUint(m[1], 10, 64)
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sums[seq] = b
		last = max(last, seq)
	}
	for seq, b := range sums {
		sum := sha256.Sum256(b)
		if seq == last {
			sum[0] ^= 0xff
		}
		tr.PutHash(swarm, seq, sum, int64(len(b)))
	}
	return last
}

// p2pNode stands in for an edge: HLS under /v/test/, the tracker at
// /p2p/ws with hashes.json, the catalog API and this package's player.
func p2pNode(tr *p2p.Tracker, dir string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/p2p/ws", tr)
	mux.HandleFunc("GET /v/test/180p/hashes.json", func(w http.ResponseWriter, r *http.Request) {
		tr.ServeHashList(w, r, "vod/test/180p")
	})
	files := http.StripPrefix("/v/test/", http.FileServer(http.Dir(dir)))
	mux.HandleFunc("GET /v/test/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".m3u8") {
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		}
		files.ServeHTTP(w, r)
	})
	asset := `{"id":"test","title":"P2P test lecture","status":"ready","duration":24.0}`
	mux.HandleFunc("/api/v1/assets/test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(asset))
	})
	mux.Handle("/", Handler())
	return mux
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// TestBrowserP2P plays one stream in two Chromium pages against the real
// tracker: page B must take at least half of its segment bytes from page
// A, and the one segment whose bytes do not match the edge's hash must be
// caught (counted, reported to the tracker) without any fatal player error.
func TestBrowserP2P(t *testing.T) {
	nodeBin, ffmpeg := browserTools(t)

	root := t.TempDir()
	dir := filepath.Join(root, "180p")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	makeP2PHLS(t, ffmpeg, dir)

	reg := prometheus.NewRegistry()
	cfg := p2p.DefaultConfig()
	cfg.Registerer = reg
	tr, err := p2p.NewTracker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := tr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	publishHashes(t, tr, "vod/test/180p", dir)
	srv := httptest.NewServer(p2pNode(tr, root))
	defer srv.Close()

	out := os.Getenv("CLASSMESH_ARTIFACTS")
	if out == "" {
		out = t.TempDir()
	}
	res, log := runP2PDriver(t, nodeBin, "test/p2p.mjs", "--url", srv.URL+"/watch/test?autoplay=1&muted=1&p2p_debug=1",
		"--seconds", "5", "--delay", "3", "--out", out, "--min-peer-share", "0.5")
	if !res.OK {
		t.Fatalf("p2p run failed: %s\n%s", res.Reason, log)
	}
	if res.B.PeerShare < 0.5 || res.A.BytesUploaded == 0 {
		t.Errorf("page B took %.0f %% from peers, page A uploaded %d bytes", 100*res.B.PeerShare, res.A.BytesUploaded)
	}
	if res.B.HashFailures != 1 {
		t.Errorf("page B counted %d hash failures, want 1 (the corrupted last segment)", res.B.HashFailures)
	}
	for _, side := range []*p2pSide{res.A, res.B} {
		for _, e := range side.Errors {
			if e.Fatal || e.Type == "networkError" {
				t.Errorf("hls.js error %s %s (fatal %v)", e.Type, e.Details, e.Fatal)
			}
		}
	}
	if n := counterValue(t, reg, "classmesh_p2p_hash_failures_total"); n != 1 {
		t.Errorf("tracker counted %v hash failures, want 1", n)
	}
	t.Logf("page B: %.0f %% of %d bytes from peers; artifacts in %s", 100*res.B.PeerShare, res.B.BytesFromPeers+res.B.BytesFromHTTP, out)
}

// runP2PDriver runs p2p.mjs and decodes its last output line.
func runP2PDriver(t *testing.T, nodeBin string, args ...string) (p2pResult, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, runErr := exec.CommandContext(ctx, nodeBin, args...).Output()
	var stderr string
	if ee, ok := runErr.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res p2pResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("driver output is not JSON (%v, run error %v):\n%s%s", err, runErr, out, stderr)
	}
	if (runErr == nil) != res.OK {
		t.Fatalf("exit status %v disagrees with ok=%v:\n%s", runErr, res.OK, out)
	}
	if res.OK && (res.A == nil || res.B == nil) {
		t.Fatalf("driver output lacks a page:\n%s", out)
	}
	return res, string(out) + stderr
}
