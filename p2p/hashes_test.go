package p2p

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/p2p/wire"
)

type hashList struct {
	V        int    `json:"v"`
	Swarm    string `json:"swarm"`
	Segments []struct {
		Seq    uint64 `json:"seq"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	} `json:"segments"`
}

func TestHashPush(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.join("10.0.0.1", testSwarm, true)
	other := e.join("10.0.0.2", "vod/other/r", true)
	sum := sha256.Sum256([]byte("segment 4"))
	e.tr.PutHash(testSwarm, 4, sum, 9)
	h := a.expect(wire.TypeHash).(*wire.HashMsg)
	if h.Seq != 4 || h.SHA256 != hexSum(sum) || h.Size != 9 {
		t.Fatalf("hash push %+v", h)
	}
	if got, size, ok := e.tr.Hash(testSwarm, 4); !ok || got != sum || size != 9 {
		t.Fatalf("Hash: %x %d %v", got, size, ok)
	}
	// The same hash again is not pushed again; a new one is. Other swarms
	// hear nothing.
	e.tr.PutHash(testSwarm, 4, sum, 9)
	e.tr.PutHash(testSwarm, 5, sum, 10)
	if h := a.expect(wire.TypeHash).(*wire.HashMsg); h.Seq != 5 {
		t.Fatalf("second push %+v", h)
	}
	other.sync()
	other.mu.Lock()
	for _, m := range other.pending {
		if m.Type() == wire.TypeHash {
			t.Errorf("hash pushed to another swarm: %+v", m)
		}
	}
	other.mu.Unlock()
}

func TestHashListEndpoint(t *testing.T) {
	e := newEnv(t, Config{})
	for seq := uint64(0); seq < 50; seq++ {
		e.tr.PutHash(testSwarm, seq, sha256.Sum256([]byte(fmt.Sprint(seq))), int64(1000+seq))
	}
	url := e.srv.URL + "/v/demo/v720/hashes.json"
	var etag string
	for _, tt := range []struct{ accept, want string }{
		{"", ""}, {"gzip", "gzip"}, {"zstd, gzip", "zstd"}, {"gzip;q=1, zstd;q=0.5", "gzip"},
		{"br", ""}, {"*", "zstd"}, {"gzip;q=0", ""},
	} {
		t.Run("accept="+tt.accept, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			// A transport that does not decompress on its own.
			resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != tt.want ||
				resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("ETag") == "" {
				t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
			}
			body := decompress(t, tt.want, raw)
			var hl hashList
			if err := json.Unmarshal(body, &hl); err != nil {
				t.Fatalf("json: %v", err)
			}
			if hl.V != 1 || hl.Swarm != testSwarm || len(hl.Segments) != 50 || hl.Segments[7].Seq != 7 ||
				hl.Segments[7].SHA256 != hexSum(sha256.Sum256([]byte("7"))) || hl.Segments[7].Size != 1007 {
				t.Fatalf("list %+v", hl)
			}
			if tt.want == "" {
				etag = resp.Header.Get("ETag")
			}
		})
	}
	// Conditional request: 304 for any representation's ETag.
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("If-None-Match", etag)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match status %d", resp.StatusCode)
	}
	// A new hash changes the ETag.
	e.tr.PutHash(testSwarm, 50, [32]byte{}, 1)
	resp, err = (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after new hash status %d", resp.StatusCode)
	}
}

func decompress(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return out
	case "zstd":
		zr, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		out, err := zr.DecodeAll(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return b
}

func TestHashStoreBounds(t *testing.T) {
	h, err := newHashStore(100, 250)
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	for seq := uint64(0); seq < 1000; seq++ {
		h.put("live/a/r", seq, [32]byte{}, 1)
	}
	if _, ok := h.get("live/a/r", 999); !ok {
		t.Fatal("newest hash missing")
	}
	if _, ok := h.get("live/a/r", 0); ok {
		t.Fatal("oldest hash kept past the per-swarm bound")
	}
	if n := len(h.swarms["live/a/r"].m); n > 100 {
		t.Fatalf("%d hashes kept", n)
	}
	for i := range 5 {
		for seq := uint64(0); seq < 100; seq++ {
			h.put(fmt.Sprintf("vod/s%d/r", i), seq, [32]byte{}, 1)
		}
	}
	if h.n > 250 {
		t.Fatalf("total %d above bound", h.n)
	}
	if _, ok := h.get("vod/s4/r", 5); !ok {
		t.Fatal("most recent swarm evicted")
	}
	if _, ok := h.get("live/a/r", 999); ok {
		t.Fatal("least recently used swarm kept")
	}
}

func FuzzAcceptEncoding(f *testing.F) {
	for _, s := range []string{"gzip", "zstd;q=0.5, gzip", "*;q=0", "gzip;q=NaN", ";;;,,,="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		switch c := httpx.Encoding([]string{s}, "zstd", "gzip"); c {
		case "", "gzip", "zstd":
		default:
			t.Fatalf("coding %q", c)
		}
		_ = etagMatch(s, "abc")
	})
}
