package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/classmesh/classmesh/p2p"
)

func TestSwarmFlags(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-h"}, 0, "classmesh swarm --url URL"},
		{nil, 2, "Usage:"},
		{[]string{"--url", "http://h/v/a/r/media.m3u8", "--downlink", "fast"}, 2, "--downlink"},
		{[]string{"--url", "http://h/v/a/r/media.m3u8", "--uplink", "-3mbit"}, 2, "--uplink"},
		{[]string{"--url", "http://h/v/a/r/media.m3u8", "--peers", "0"}, 2, "peers must be at least 1"},
		{[]string{"--url", "ftp://h/x"}, 2, "--url must be"},
		{[]string{"--url", "http://127.0.0.1:1/v/a/r/media.m3u8", "--duration", "2s"}, 1, "classmesh swarm:"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			code := runSwarm(tc.args, &out, &out)
			if code != tc.code || !strings.Contains(out.String(), tc.out) {
				t.Fatalf("code %d (want %d), output:\n%s\nwant it to contain %q", code, tc.code, out.String(), tc.out)
			}
		})
	}
}

// TestSwarmJSON runs two viewers of a small synthetic rendition (the
// runner never decodes media, so the segments are plain bytes) against a
// real tracker and checks the JSON object.
func TestSwarmJSON(t *testing.T) {
	tr, err := p2p.NewTracker(p2p.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var pl strings.Builder
	pl.WriteString("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI=\"init.mp4\"\n")
	segs := map[string][]byte{"/v/a/r/init.mp4": []byte("init")}
	for n := 0; n < 10; n++ {
		b := bytes.Repeat([]byte{byte(n)}, 20000+n)
		segs[fmt.Sprintf("/v/a/r/seg-%d.m4s", n)] = b
		tr.PutHash("vod/a/r", uint64(n), sha256.Sum256(b), int64(len(b)))
		fmt.Fprintf(&pl, "#EXTINF:1.0,\nseg-%d.m4s\n", n)
	}
	pl.WriteString("#EXT-X-ENDLIST\n")
	mux := http.NewServeMux()
	mux.Handle("/p2p/ws", tr)
	mux.HandleFunc("/v/a/r/media.m3u8", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(pl.String())) })
	mux.HandleFunc("/v/a/r/", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := segs[r.URL.Path]; ok {
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_ = tr.Start(context.Background())

	var out, errOut bytes.Buffer
	code := runSwarm([]string{"--url", srv.URL + "/v/a/r/media.m3u8", "--peers", "2", "--duration", "3s",
		"--downlink", "10mbit", "--uplink", "10mbit", "--json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	for _, f := range []string{"offload", "stalls", "stall_seconds", "startup_ms_p50", "startup_ms_p95", "peers_connected"} {
		if _, ok := rep[f]; !ok {
			t.Errorf("no %q in %s", f, out.String())
		}
	}
	if rep["started"].(float64) != 2 {
		t.Fatalf("viewers did not start: %s", out.String())
	}
}
