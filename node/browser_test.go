package node

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// artifactsDir is where browser screenshots go: $CLASSMESH_ARTIFACTS, or
// test-artifacts/ in the repository.
func artifactsDir(t testing.TB) string {
	dir := os.Getenv("CLASSMESH_ARTIFACTS")
	if dir == "" {
		dir, _ = filepath.Abs("../test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserPlaysDemo plays the demo through hls.js in Debian's headless
// Chromium for 10 s of media time, directly and embedded in a cross-origin
// iframe, and fails on any hls.js error event.
// requireBrowser returns the node binary once Chromium and the built
// player with playwright-core are there (skip, or fail in CI, otherwise).
func requireBrowser(t *testing.T) string {
	t.Helper()
	nodeBin := requireTool(t, "node")
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		requireTool(t, "chromium")
	}
	for _, need := range []string{"../player/node_modules/playwright-core", "../player/dist/index.html"} {
		if _, err := os.Stat(need); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s missing (make player): %v", need, err)
			}
			t.Skipf("%s missing (make player)", need)
		}
	}
	return nodeBin
}

func TestBrowserPlaysDemo(t *testing.T) {
	nodeBin := requireBrowser(t)
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	for _, mode := range []string{"direct", "embed"} {
		t.Run(mode, func(t *testing.T) {
			shot := filepath.Join(artifactsDir(t), "browser-demo-"+mode+".png")
			args := []string{"test/play.mjs", "--url", n.URL() + "/watch/demo?autoplay=1&muted=1",
				"--seconds", "10", "--screenshot", shot}
			if mode == "embed" {
				args = append(args, "--embed")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, nodeBin, args...)
			cmd.Dir = "../player"
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("browser playback failed: %v\n%s", err, out.String())
			}
			t.Logf("%s", out.String())
			if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
				t.Fatalf("no screenshot at %s: %v", shot, err)
			}
		})
	}
}
