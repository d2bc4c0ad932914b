package viewers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classmesh/classmesh/internal/testmedia"
	"github.com/classmesh/classmesh/p2p"
)

var (
	mediaOnce sync.Once
	mediaRoot string
	mediaErr  error
)

// encodeMedia writes (once per test binary) a 20 s HLS fMP4 rendition with
// 2 s segments, encoded by ffmpeg, under {root}/v/test/v0/, and a master
// playlist at {root}/v/test/master.m3u8.
func encodeMedia(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffmpeg not installed")
		}
		t.Skip("ffmpeg not installed")
	}
	mediaOnce.Do(func() {
		if mediaRoot, mediaErr = os.MkdirTemp("", "classmesh-swarm-test-"); mediaErr != nil {
			return
		}
		if mediaErr = testmedia.WriteHLSRendition(filepath.Join(mediaRoot, "v", "test", "v0")); mediaErr != nil {
			return
		}
		master := "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000\nv0/media.m3u8\n"
		mediaErr = os.WriteFile(filepath.Join(mediaRoot, "v", "test", "master.m3u8"), []byte(master), 0o644)
	})
	if mediaErr != nil {
		t.Fatal(mediaErr)
	}
	return mediaRoot
}

func TestMain(m *testing.M) {
	code := m.Run()
	if mediaRoot != "" {
		_ = os.RemoveAll(mediaRoot)
	}
	os.Exit(code)
}

// newEdge serves the test rendition at /v/test/v0/ and a real tracker at
// /p2p/ws that knows every segment's hash.
func newEdge(t *testing.T) *httptest.Server {
	t.Helper()
	root := encodeMedia(t)
	dir := filepath.Join(root, "v", "test", "v0")
	tr, err := p2p.NewTracker(p2p.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("seg-%d.m4s", n)))
		if err != nil {
			break
		}
		tr.PutHash("vod/test/v0", uint64(n), sha256.Sum256(b), int64(len(b)))
	}
	mux := http.NewServeMux()
	mux.Handle("/p2p/ws", tr)
	mux.HandleFunc("/v/test/v0/hashes.json", func(w http.ResponseWriter, r *http.Request) { tr.ServeHashList(w, r, "vod/test/v0") })
	mux.Handle("/v/", http.FileServer(http.Dir(root)))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = tr.Close()
		srv.Close()
	})
	return srv
}

func TestRunFivePeers(t *testing.T) {
	srv := newEdge(t)
	rep, err := Run(context.Background(), Config{
		URL: srv.URL + "/v/test/master.m3u8", Peers: 5, Duration: 8 * time.Second, P2P: true,
		DownlinkBitsPerSec: 20_000_000, UplinkBitsPerSec: 20_000_000,
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %s", buf.Bytes())
	var fields map[string]any
	if err := json.Unmarshal(buf.Bytes(), &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"offload", "stalls", "stall_seconds", "startup_ms_p50", "startup_ms_p95", "peers_connected"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("JSON lacks %q", f)
		}
	}
	if rep.Offload <= 0 || rep.PeersConnected == 0 || rep.Started != 5 || rep.Rendition != "v0" {
		t.Fatalf("offload %.2f, peers connected %d, started %d, rendition %q", rep.Offload, rep.PeersConnected, rep.Started, rep.Rendition)
	}
	if rep.StartupMsP50 <= 0 || rep.StartupMsP95 < rep.StartupMsP50 {
		t.Fatalf("startup p50 %v p95 %v", rep.StartupMsP50, rep.StartupMsP95)
	}
	// Startup takes exactly the first segment over HTTP; every HTTP byte
	// has a cause.
	if n := rep.HTTPSegmentsByCause["startup"]; n != 5 {
		t.Errorf("%d startup segments over HTTP, want 1 per viewer", n)
	}
	if sum := sumValues(rep.HTTPBytesByCause); sum != rep.BytesHTTP {
		t.Errorf("HTTP bytes by cause %v sum to %d, not %d", rep.HTTPBytesByCause, sum, rep.BytesHTTP)
	}
	buf.Reset()
	if err := rep.WriteTable(&buf); err != nil || !bytes.Contains(buf.Bytes(), []byte("offload")) {
		t.Fatalf("table: %v\n%s", err, buf.Bytes())
	}
}

// TestRunHTTPOnly: with P2P off every byte comes over HTTP.
func TestRunHTTPOnly(t *testing.T) {
	srv := newEdge(t)
	rep, err := Run(context.Background(), Config{
		URL: srv.URL + "/v/test/v0/media.m3u8", Peers: 3, Duration: 3 * time.Second, P2P: false,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Offload != 0 || rep.BytesHTTP == 0 || rep.PeersConnected != 0 || rep.Started != 3 {
		t.Fatalf("report %+v", rep)
	}
	if rep.HTTPBytesByCause["offline"] != rep.BytesHTTP {
		t.Fatalf("HTTP by cause %v, want all %d offline", rep.HTTPBytesByCause, rep.BytesHTTP)
	}
}

func sumValues(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// TestRunMalicious: the first viewer (the first fetcher) corrupts what it
// serves; the others detect it, drop it and keep playing.
func TestRunMalicious(t *testing.T) {
	srv := newEdge(t)
	rep, err := Run(context.Background(), Config{
		URL: srv.URL + "/v/test/v0/media.m3u8", Peers: 4, Malicious: 1, Duration: 8 * time.Second, P2P: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected == 0 || rep.BadPeersDropped == 0 || rep.Started != 4 || rep.Stalls != 0 {
		t.Fatalf("rejected %d, dropped %d, started %d, stalls %d", rep.Rejected, rep.BadPeersDropped, rep.Started, rep.Stalls)
	}
	t.Logf("rejected %d segments, %d bad peers dropped, offload %.2f", rep.Rejected, rep.BadPeersDropped, rep.Offload)
}

// TestRunLive plays a live playlist that gains a 1 s segment every second
// (synthetic bytes: the runner never decodes media); the tracker is told
// of each new segment and names fetchers.
func TestRunLive(t *testing.T) {
	tr, err := p2p.NewTracker(p2p.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_ = tr.Start(context.Background())
	const swarmID = "live/s1/v0"
	start := time.Now()
	seg := func(n int) []byte { return bytes.Repeat([]byte{byte(n)}, 30000+n) }
	var mu sync.Mutex
	announced := -1
	latest := func() int {
		n := 5 + int(time.Since(start)/time.Second)
		mu.Lock()
		defer mu.Unlock()
		for ; announced < n; announced++ {
			b := seg(announced + 1)
			tr.PutHash(swarmID, uint64(announced+1), sha256.Sum256(b), int64(len(b)))
			tr.SegmentAvailable(swarmID, uint64(announced+1))
		}
		return n
	}
	mux := http.NewServeMux()
	mux.Handle("/p2p/ws", tr)
	mux.HandleFunc("/live/s1/v0/", func(w http.ResponseWriter, r *http.Request) {
		n := latest()
		switch name := strings.TrimPrefix(r.URL.Path, "/live/s1/v0/"); {
		case name == "media.m3u8":
			first := max(0, n-5)
			fmt.Fprintf(w, "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-MAP:URI=\"init.mp4\"\n", first)
			for i := first; i <= n; i++ {
				fmt.Fprintf(w, "#EXTINF:1.0,\nseg-%d.m4s\n", i)
			}
		case name == "init.mp4":
			w.Write([]byte("init"))
		default:
			var i int
			if _, err := fmt.Sscanf(name, "seg-%d.m4s", &i); err != nil || i > n {
				http.NotFound(w, r)
				return
			}
			w.Write(seg(i))
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	rep, err := Run(context.Background(), Config{URL: srv.URL + "/live/s1/v0/media.m3u8", Peers: 3, Duration: 6 * time.Second, P2P: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Started != 3 || rep.SegmentsPlayed < 9 || rep.Joined != 3 || rep.InitFailures != 0 {
		t.Fatalf("report %+v", rep)
	}
	t.Logf("live: played %d, offload %.2f, stalls %d (%.1f s)", rep.SegmentsPlayed, rep.Offload, rep.Stalls, rep.StallSeconds)
}
