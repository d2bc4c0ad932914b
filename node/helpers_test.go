package node

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireTool skips the test when a tool is missing, except in CI where a
// missing tool is a failure.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// testLogger sends node logs to the test log at warn and above (debug with
// CLASSMESH_TEST_DEBUG=1).
func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("CLASSMESH_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: level}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// mustNewNode starts a node on 127.0.0.1:0 with a fresh data dir unless cfg
// names one, and closes it when the test ends.
func mustNewNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	if cfg.RescanInterval == 0 {
		cfg.RescanInterval = -1
	}
	if cfg.GossipAddr == "" {
		cfg.GossipAddr = "127.0.0.1:0"
	}
	if cfg.QUICAddr == "" {
		cfg.QUICAddr = "127.0.0.1:0"
	}
	if cfg.GossipProfile == "" {
		cfg.GossipProfile = "local"
	}
	if cfg.RTMPAddr == "" {
		cfg.RTMPAddr = "127.0.0.1:0"
	}
	if cfg.AdminHTTPAddr == "" {
		cfg.AdminHTTPAddr = "127.0.0.1:0"
	}
	if cfg.LeaveTimeout == 0 {
		cfg.LeaveTimeout = 2 * time.Second
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		n.Close()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

// demoDir returns the repository's demo library.
func demoDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../testdata/media")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo", "asset.json")); err != nil {
		t.Fatalf("demo media missing (run scripts/make-demo-media.sh): %v", err)
	}
	return dir
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func get(t testing.TB, url string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noGzipClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

// noGzipClient leaves Accept-Encoding to the test.
var noGzipClient = &http.Client{
	Transport: &http.Transport{DisableCompression: true},
	Timeout:   time.Minute,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// getAll sends one GET per URL, all released at once, and returns the
// responses in order; any transport error fails the test.
func getAll(t testing.TB, urls []string) []response {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(urls), DisableCompression: true},
		Timeout: 2 * time.Minute}
	out := make([]response, len(urls))
	errs := make([]error, len(urls))
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			resp, err := client.Get(u)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			out[i], errs[i] = response{resp.StatusCode, resp.Header, body}, err
		}()
	}
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("GET %s: %v", urls[i], err)
		}
	}
	return out
}
