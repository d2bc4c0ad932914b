package player

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// need skips the test when a tool is missing, or fails it when CI=true.
func need(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s missing: %v", what, err)
	}
	t.Skipf("%s missing: %v", what, err)
}

// browserTools returns node and ffmpeg after checking that the browser
// tests' tools (playwright-core, Debian's chromium, the built player) are
// there: a skip, or a failure in CI, otherwise.
func browserTools(t *testing.T) (nodeBin, ffmpeg string) {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	need(t, "node", err)
	_, err = os.Stat("node_modules/playwright-core")
	need(t, "node_modules/playwright-core (make player)", err)
	_, err = os.Stat("/usr/bin/chromium")
	need(t, "/usr/bin/chromium", err)
	ffmpeg, err = exec.LookPath("ffmpeg")
	need(t, "ffmpeg", err)
	need(t, "built player", CheckBuilt(Assets()))
	return nodeBin, ffmpeg
}

// makeHLS encodes 20 s of test video in two renditions plus an audio group as
// fMP4 HLS into dir.
func makeHLS(t *testing.T, ffmpeg, dir string) {
	t.Helper()
	for _, sub := range []string{"stream_0", "stream_1", "stream_2"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "20",
		"-filter_complex", "[0:v]split=2[v0][v1];[v1]scale=160:90[v1s]",
		"-map", "[v0]", "-map", "[v1s]", "-map", "1:a",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
		"-bf", "0", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-b:v:0", "300k", "-b:v:1", "100k",
		"-c:a", "aac", "-b:a", "64k", "-ac", "2",
		"-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "2", "-hls_playlist_type", "vod",
		"-master_pl_name", "master.m3u8",
		"-var_stream_map", "v:0,agroup:aud v:1,agroup:aud a:0,agroup:aud",
		"-hls_segment_filename", "stream_%v/seg_%03d.m4s", "stream_%v/index.m3u8")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
}

const testAsset = `{"id":"test","title":"Test pattern lecture","description":"Twenty seconds of ffmpeg test signal.",` +
	`"status":"ready","duration":20.0,"renditions":[` +
	`{"id":"180p","kind":"video","codec":"avc1.64000d","width":320,"height":180,"bandwidth":400000},` +
	`{"id":"90p","kind":"video","codec":"avc1.64000b","width":160,"height":90,"bandwidth":180000},` +
	`{"id":"audio","kind":"audio","codec":"mp4a.40.2","bandwidth":64000,"language":"und"}]}`

// testNode stands in for a classmesh node: HLS under /v/test/, the catalog
// API, and the player for everything else.
func testNode(dir string) http.Handler {
	mux := http.NewServeMux()
	files := http.StripPrefix("/v/test/", http.FileServer(http.Dir(dir)))
	mux.Handle("/v/test/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch filepath.Ext(r.URL.Path) {
		case ".m3u8":
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		case ".m4s":
			w.Header().Set("Content-Type", "video/iso.segment")
		case ".mp4":
			w.Header().Set("Content-Type", "video/mp4")
		}
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("/api/v1/assets/test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(testAsset))
	})
	mux.HandleFunc("/api/v1/assets", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[" + testAsset + "]"))
	})
	mux.Handle("/", Handler())
	return mux
}

// playResult is the part of play.mjs's JSON line the test checks.
type playResult struct {
	OK     bool    `json:"ok"`
	Reason string  `json:"reason"`
	Played float64 `json:"played"`
	Engine string  `json:"engine"`
	Errors []struct {
		Type, Details string
		Fatal         bool
	} `json:"errors"`
	Levels []struct {
		Height  int `json:"height"`
		Bitrate int `json:"bitrate"`
	} `json:"levels"`
}

// TestBrowserPlays plays a fresh ffmpeg HLS stream through the player page in
// headless Chromium, directly and inside a cross-origin iframe.
func TestBrowserPlays(t *testing.T) {
	nodeBin, ffmpeg := browserTools(t)

	dir := t.TempDir()
	makeHLS(t, ffmpeg, dir)
	srv := httptest.NewServer(testNode(dir))
	defer srv.Close()

	artifacts := os.Getenv("CLASSMESH_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"direct", "embed"} {
		t.Run(mode, func(t *testing.T) {
			shot := filepath.Join(artifacts, "player-"+mode+".png")
			args := []string{"test/play.mjs", "--url", srv.URL + "/watch/test?autoplay=1&muted=1",
				"--seconds", "10", "--screenshot", shot}
			if mode == "embed" {
				args = append(args, "--embed")
			}
			res, out := runDriver(t, nodeBin, args)
			if !res.OK {
				t.Fatalf("playback failed: %s\n%s", res.Reason, out)
			}
			if res.Played < 10 || len(res.Errors) != 0 || res.Engine != "hls.js" {
				t.Errorf("played %.1f s with %d errors on %q", res.Played, len(res.Errors), res.Engine)
			}
			if heights := levelHeights(res); heights != "180,90" && heights != "90,180" {
				t.Errorf("levels = %s, want the 180p and 90p renditions", heights)
			}
			png, err := os.ReadFile(shot)
			if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
				t.Fatalf("no PNG screenshot at %s: %v", shot, err)
			}
			t.Logf("screenshot %s", shot)
		})
	}
}

// runDriver runs play.mjs and decodes its last output line.
func runDriver(t *testing.T, nodeBin string, args []string) (playResult, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	out := stdout.String() + stderr.String()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res playResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("driver output is not JSON (%v, run error %v):\n%s", err, runErr, out)
	}
	if (runErr == nil) != res.OK {
		t.Fatalf("exit status %v disagrees with ok=%v:\n%s", runErr, res.OK, out)
	}
	return res, out
}

func levelHeights(res playResult) string {
	var hs []string
	for _, l := range res.Levels {
		hs = append(hs, strconv.Itoa(l.Height))
	}
	return strings.Join(hs, ",")
}
