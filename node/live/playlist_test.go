package live

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// get requests path from h and returns the response.
func get(t testing.TB, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// goldenSession publishes 20 s of 30 fps video (2 s GOPs) and audio.
func goldenSession(t *testing.T) (*Manager, *Publication) {
	m := newTestManager(t, Config{Now: newFakeClock().Now})
	p, err := m.Publish("class1")
	if err != nil {
		t.Fatal(err)
	}
	feed(t, p, stream{fps: 30, gop: 2 * time.Second, dur: 20 * time.Second, video: true, audio: true})
	return m, p
}

func TestPlaylistGolden(t *testing.T) {
	m, _ := goldenSession(t)
	h := m.Handler()
	for _, tc := range []struct{ path, file string }{
		{"/live/class1/master.m3u8", "master.m3u8"},
		{"/live/class1/video/media.m3u8", "video_live.m3u8"},
		{"/live/class1/audio/media.m3u8", "audio_live.m3u8"},
		{"/live/class1/video/media.m3u8?_HLS_skip=YES", "video_skip.m3u8"},
	} {
		rec := get(t, h, tc.path)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.path, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != typePlaylist {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		golden(t, tc.file, rec.Body.Bytes())
	}
	if err := m.End("class1"); err != nil {
		t.Fatal(err)
	}
	golden(t, "video_ended.m3u8", get(t, h, "/live/class1/video/media.m3u8").Body.Bytes())
}

// TestSkipIsSuffix checks that a delta update is the full playlist with
// the oldest segments replaced by EXT-X-SKIP.
func TestSkipIsSuffix(t *testing.T) {
	m, _ := goldenSession(t)
	h := m.Handler()
	// The delta repeats EXT-X-MAP before its first segment: compare
	// without it.
	noMap := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "#EXT-X-MAP:") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	full := noMap(get(t, h, "/live/class1/video/media.m3u8").Body.String())
	for _, v := range []string{"YES", "v2"} {
		delta := noMap(get(t, h, "/live/class1/video/media.m3u8?_HLS_skip="+v).Body.String())
		head, tail, ok := strings.Cut(delta, "#EXT-X-SKIP:SKIPPED-SEGMENTS=")
		if !ok {
			t.Fatalf("no EXT-X-SKIP in\n%s", delta)
		}
		n, rest, _ := strings.Cut(tail, "\n")
		if !strings.HasPrefix(full, head) || !strings.HasSuffix(full, rest) {
			t.Errorf("delta is not a suffix of the full playlist")
		}
		skipped := strings.Count(full[len(head):len(full)-len(rest)], "#EXTINF:")
		// 2 s segments, 19.9 s listed, skip boundary 12 s: segments 0-2
		// end at least 12 s before the end of the playlist.
		if n != "3" || skipped != 3 {
			t.Errorf("SKIPPED-SEGMENTS=%s, %d EXTINF left out; want 3", n, skipped)
		}
	}
}
