package control

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestHCLogAdapterLevels(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug - 4}))
	h := newHCLog(l, slog.LevelWarn).Named("snap").With("peer", "n2")
	h.Info("hidden")
	h.Warn("shown", "k", 1)
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, "shown") ||
		!strings.Contains(out, "component=raft.snap") || !strings.Contains(out, "peer=n2") || !strings.Contains(out, "level=WARN") {
		t.Fatalf("log output: %q", out)
	}
	if h.IsInfo() || !h.IsWarn() {
		t.Fatal("level predicates wrong")
	}
}
