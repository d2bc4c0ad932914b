package node

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOneIdentifierRule reproduces finding 8 of issue 11 (identifiers):
// a folder named _intro was indexed and registered but every /v/_intro/...
// answered 400, and a 200-character folder name was indexed and then
// refused by the catalog, so registration retried every second forever.
// After the fix every indexed id is servable and registrable, and an id
// that breaks the rule is skipped at indexing with a log line.
func TestOneIdentifierRule(t *testing.T) {
	lib := t.TempDir()
	src := filepath.Join(demoDir(t), "demo")
	long := strings.Repeat("l", 200)
	for _, id := range []string{"_intro", long, "-dash"} {
		if err := os.MkdirAll(filepath.Join(lib, id), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, filepath.Join(src, "240p.mp4"), filepath.Join(lib, id, "240p.mp4"))
	}
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n := mustNewNode(t, Config{MediaDir: lib, Logger: logger})

	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := n.Catalog().Asset("_intro"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("_intro never registered; log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := get(t, n.URL()+"/v/_intro/master.m3u8"); r.code != 200 {
		t.Errorf("GET /v/_intro/master.m3u8: %d %s", r.code, r.body)
	}
	for _, id := range []string{long, "-dash"} {
		if _, ok := n.Library().Asset(id); ok {
			t.Errorf("asset %.20q... was indexed although the catalog cannot hold it", id)
		}
	}
	// Two registration ticks later nothing is left to retry.
	time.Sleep(2500 * time.Millisecond)
	if n.assetsDirty.Load() {
		t.Errorf("asset registration still retrying; log:\n%s", logs.String())
	}
	out := logs.String()
	if strings.Contains(out, "cannot register asset") {
		t.Errorf("registration failed:\n%s", out)
	}
	for _, id := range []string{long[:40], "-dash"} {
		if !strings.Contains(out, "invalid asset id skipped") || !strings.Contains(out, id) {
			t.Errorf("no log line for the skipped id %q:\n%s", id, out)
		}
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
