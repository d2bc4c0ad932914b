package cluster

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// decryptWarnEvery rate-limits the wrong-secret warning per address.
const decryptWarnEvery = 30 * time.Second

// gossipLog routes memberlist's log lines into slog at debug level and
// turns decryption failures into a clear warning.
type gossipLog struct {
	log  *slog.Logger
	mu   sync.Mutex
	last map[string]time.Time // address -> last decrypt warning
}

func newGossipLog(l *slog.Logger) *gossipLog {
	return &gossipLog{log: l, last: map[string]time.Time{}}
}

// Write receives one or more log lines from memberlist's *log.Logger.
func (g *gossipLog) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		g.line(string(line))
	}
	return len(p), nil
}

func (g *gossipLog) line(s string) {
	level, msg := splitLevel(s)
	if isDecryptFailure(msg) {
		from := fromAddr(msg)
		if g.shouldWarn(from) {
			g.log.Warn("gossip: message from "+from+" could not be decrypted (wrong cluster secret?)", "detail", msg)
			return
		}
	}
	if g.log.Enabled(context.Background(), slog.LevelDebug) {
		g.log.Debug(msg, "level", level)
	}
}

// splitLevel splits "[ERR] memberlist: ..." into "ERR" and the rest.
func splitLevel(s string) (string, string) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 {
			return s[1:i], strings.TrimSpace(s[i+1:])
		}
	}
	return "", s
}

// isDecryptFailure recognises memberlist's messages for payloads no
// installed key could open.
func isDecryptFailure(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "decrypt") || strings.Contains(m, "no installed keys")
}

// fromAddr extracts the "from=ADDR" memberlist appends to log lines.
func fromAddr(msg string) string {
	i := strings.LastIndex(msg, "from=")
	if i < 0 {
		return "unknown address"
	}
	f := strings.Fields(msg[i+len("from="):])
	if len(f) == 0 {
		return "unknown address"
	}
	return f[0]
}

func (g *gossipLog) shouldWarn(addr string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if t, ok := g.last[addr]; ok && now.Sub(t) < decryptWarnEvery {
		return false
	}
	if len(g.last) > 1024 {
		clear(g.last)
	}
	g.last[addr] = now
	return true
}
