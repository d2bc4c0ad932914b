package viewers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/p2p"
)

// TestScale runs CLASSMESH_SWARM_SCALE viewers (e.g. 100) of a synthetic
// 3 Mbit/s rendition (2 s segments of random bytes) for
// CLASSMESH_SWARM_SECONDS (default 60) against an in-process edge, with
// P2P and again without (CLASSMESH_SWARM_P2P_ONLY=1: P2P only), and logs
// both reports. CLASSMESH_SWARM_DOWN / _UP set per-viewer caps (e.g.
// 20mbit), CLASSMESH_SWARM_DEBUG=1 logs every transfer. It measures the
// swarm tool itself (pion on loopback); skipped unless the variable is set.
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CLASSMESH_SWARM_SCALE"))
	if n <= 0 {
		t.Skip("set CLASSMESH_SWARM_SCALE=N to run")
	}
	secs, _ := strconv.Atoi(os.Getenv("CLASSMESH_SWARM_SECONDS"))
	if secs <= 0 {
		secs = 60
	}
	tr, err := p2p.NewTracker(p2p.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_ = tr.Start(context.Background())
	const segBytes = 3_000_000 / 8 * 2
	segs := make(map[string][]byte)
	var pl strings.Builder
	pl.WriteString("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"init.mp4\"\n")
	for i := 0; i < secs/2+20; i++ {
		b := make([]byte, segBytes)
		_, _ = rand.Read(b)
		segs[fmt.Sprintf("/v/scale/v3m/seg-%d.m4s", i)] = b
		tr.PutHash("vod/scale/v3m", uint64(i), sha256.Sum256(b), int64(len(b)))
		fmt.Fprintf(&pl, "#EXTINF:2.0,\nseg-%d.m4s\n", i)
	}
	pl.WriteString("#EXT-X-ENDLIST\n")
	mux := http.NewServeMux()
	mux.Handle("/p2p/ws", tr)
	mux.HandleFunc("/v/scale/v3m/media.m3u8", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(pl.String())) })
	mux.HandleFunc("/v/scale/v3m/init.mp4", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("init")) })
	mux.HandleFunc("/v/scale/v3m/", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := segs[r.URL.Path]; ok {
			_, _ = w.Write(b)
			return
		}
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, on := range []bool{true, false} {
		if !on && os.Getenv("CLASSMESH_SWARM_P2P_ONLY") != "" {
			break
		}
		rep, err := Run(context.Background(), Config{URL: srv.URL + "/v/scale/v3m/media.m3u8", Peers: n,
			Duration: time.Duration(secs) * time.Second, P2P: on, JoinSpread: 10 * time.Second,
			DownlinkBitsPerSec: envRate("CLASSMESH_SWARM_DOWN"), UplinkBitsPerSec: envRate("CLASSMESH_SWARM_UP"), Logger: scaleLogger()})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_ = rep.WriteJSON(&b)
		t.Logf("p2p=%v: %s", on, b.String())
	}
}

func scaleLogger() *slog.Logger {
	if os.Getenv("CLASSMESH_SWARM_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func envRate(name string) int64 {
	r, _ := ParseRate(os.Getenv(name))
	return r
}
