package live

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type result struct {
	code   int
	body   string
	header http.Header
	err    error
}

// fetch GETs url in the background.
func fetch(ctx context.Context, url string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ch <- result{code: resp.StatusCode, body: string(b), header: resp.Header, err: err}
	}()
	return ch
}

func receive(t testing.TB, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no response within 10 s")
	}
	return result{}
}

// liveServer publishes 5 s of media with GOPs of cfg.SegmentTarget (2 s
// when zero) and serves it on a real socket.
func liveServer(t *testing.T, cfg Config) (*Manager, *Publication, *httptest.Server) {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = newFakeClock().Now
	}
	m := newTestManager(t, cfg)
	p, err := m.Publish("class1")
	if err != nil {
		t.Fatal(err)
	}
	gop := cfg.SegmentTarget
	if gop == 0 {
		gop = 2 * time.Second
	}
	feed(t, p, stream{fps: 30, gop: gop, dur: 5 * time.Second, video: true, audio: true})
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return m, p, srv
}

// more sends another second of media starting at ms.
func more(t *testing.T, p *Publication, ms int64) {
	sendFrames(t, p, stream{fps: 30, gop: 2 * time.Second, dur: time.Second, start: ms, video: true, audio: true}.frames())
}

func TestBlockingReload(t *testing.T) {
	m, p, srv := liveServer(t, Config{})
	video := mustTrack(t, p.Session(), RenditionVideo)
	msn, part, _ := video.Last()
	url := fmt.Sprintf("%s/live/class1/video/media.m3u8?_HLS_msn=%d&_HLS_part=%d", srv.URL, msn, part+1)
	ch := fetch(context.Background(), url)
	waitFor(t, "the request to be held", func() bool { return m.held.Load() == 1 })
	select {
	case r := <-ch:
		t.Fatalf("answered before the part existed: %d", r.code)
	default:
	}
	more(t, p, 5000)
	r := receive(t, ch)
	want := fmt.Sprintf("part-%d.%d.m4s", msn, part+1)
	if r.code != 200 || !strings.Contains(r.body, `URI="`+want+`"`) || strings.Contains(r.body, "PRELOAD-HINT:TYPE=PART,URI=\""+want) {
		t.Fatalf("%d, playlist without %s:\n%s", r.code, want, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != cacheBlocking {
		t.Errorf("Cache-Control %q", cc)
	}
	if m.held.Load() != 0 {
		t.Errorf("%d requests still held", m.held.Load())
	}
	// A request the playlist already satisfies is answered at once, with
	// the rendition report of audio.
	r = receive(t, fetch(context.Background(), fmt.Sprintf("%s/live/class1/video/media.m3u8?_HLS_msn=%d", srv.URL, msn-1)))
	if r.code != 200 || !strings.Contains(r.body, `#EXT-X-RENDITION-REPORT:URI="../audio/media.m3u8",LAST-MSN=`) {
		t.Errorf("%d\n%s", r.code, r.body)
	}
}

func TestBlockingBadRequests(t *testing.T) {
	_, p, srv := liveServer(t, Config{})
	msn, part, _ := mustTrack(t, p.Session(), RenditionVideo).Last()
	tests := []struct {
		name, query string
		code        int
	}{
		{"three segments ahead", fmt.Sprintf("_HLS_msn=%d", msn+3), 400},
		{"too many parts ahead", fmt.Sprintf("_HLS_msn=%d&_HLS_part=%d", msn, part+7), 400},
		{"part without msn", "_HLS_part=1", 400},
		{"negative msn", "_HLS_msn=-1", 400},
		{"bad skip", "_HLS_skip=NO", 400},
		{"twice", "_HLS_msn=1&_HLS_msn=2", 400},
		{"other parameters ignored", "token=abc&_HLS_msn=0", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := receive(t, fetch(context.Background(), srv.URL+"/live/class1/video/media.m3u8?"+tt.query))
			if r.code != tt.code {
				t.Errorf("%s: %d, want %d: %s", tt.query, r.code, tt.code, r.body)
			}
		})
	}
}

func TestBlockingTimeoutAndClientGone(t *testing.T) {
	m, p, srv := liveServer(t, Config{PartTarget: 200 * time.Millisecond, SegmentTarget: time.Second})
	msn, part, _ := mustTrack(t, p.Session(), RenditionVideo).Last()
	base := fmt.Sprintf("%s/live/class1/video/media.m3u8?_HLS_msn=%d&_HLS_part=%d", srv.URL, msn, part+1)

	ctx, cancel := context.WithCancel(context.Background())
	gone := fetch(ctx, base)
	waitFor(t, "the request to be held", func() bool { return m.held.Load() == 1 })
	cancel()
	<-gone
	waitFor(t, "the request to be released", func() bool { return m.held.Load() == 0 })

	// Nothing comes: 503 after three target durations (3 x 1 s).
	r := receive(t, fetch(context.Background(), base))
	if r.code != http.StatusServiceUnavailable {
		t.Errorf("%d, want 503", r.code)
	}
}

func TestPreloadHintedPart(t *testing.T) {
	m, p, srv := liveServer(t, Config{})
	video := mustTrack(t, p.Session(), RenditionVideo)
	msn, part, _ := video.Last()
	ch := fetch(context.Background(), fmt.Sprintf("%s/live/class1/video/part-%d.%d.m4s", srv.URL, msn, part+1))
	waitFor(t, "the part request to be held", func() bool { return m.held.Load() == 1 })
	more(t, p, 5000)
	r := receive(t, ch)
	want, _ := video.Part(msn, part+1)
	if r.code != 200 || r.body != string(want.Data) || r.header.Get("Content-Type") != typeMP4 {
		t.Fatalf("%d, %d bytes, want %d", r.code, len(r.body), len(want.Data))
	}
	// Far away or malformed: 404 at once.
	for _, name := range []string{fmt.Sprintf("part-%d.0.m4s", msn+5), "part-x.1.m4s", "part-1.m4s", "seg-99.m4s", "nope.txt"} {
		if r := receive(t, fetch(context.Background(), srv.URL+"/live/class1/video/"+name)); r.code != 404 {
			t.Errorf("%s: %d", name, r.code)
		}
	}
}

func TestFilesAndEnded(t *testing.T) {
	m, p, srv := liveServer(t, Config{})
	video := mustTrack(t, p.Session(), RenditionVideo)
	h := m.Handler()
	seg := get(t, h, "/live/class1/video/seg-0.m4s")
	parts, _ := video.Segment(0)
	if seg.Code != 200 || !bytes.Equal(seg.Body.Bytes(), bytes.Join(parts, nil)) || string(seg.Body.Bytes()[4:8]) != "styp" {
		t.Fatalf("seg-0: %d, %d bytes", seg.Code, seg.Body.Len())
	}
	init := get(t, h, "/live/class1/video/init.mp4").Body.Bytes()
	if info, err := parseInit(init); err != nil || info.width != 320 || info.codec != "avc1.64000D" {
		t.Errorf("init.mp4: %+v %v", info, err)
	}
	byID := get(t, h, fmt.Sprintf("/live/class1/video/init-%08x.mp4", InitID(init)))
	if !bytes.Equal(byID.Body.Bytes(), init) {
		t.Error("init-{id}.mp4 differs from init.mp4")
	}
	head := httptest.NewRecorder()
	h.ServeHTTP(head, httptest.NewRequest(http.MethodHead, "/live/class1/audio/part-0.1.m4s", nil))
	if head.Code != 200 || head.Header().Get("Content-Length") == "" || head.Body.Len() != 0 {
		t.Errorf("HEAD part: %d %v", head.Code, head.Header())
	}
	whole := seg.Body.Bytes()
	if cl := seg.Header().Get("Content-Length"); cl != strconv.Itoa(len(whole)) {
		t.Errorf("seg-0 Content-Length %q for %d bytes", cl, len(whole))
	}
	ranged := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/live/class1/video/seg-0.m4s", nil)
	req.Header.Set("Range", "bytes=4-7")
	h.ServeHTTP(ranged, req)
	if ranged.Code != http.StatusPartialContent || !bytes.Equal(ranged.Body.Bytes(), whole[4:8]) {
		t.Errorf("Range bytes=4-7: %d %q", ranged.Code, ranged.Body.Bytes())
	}
	// Finding 7: the empty suffix is unsatisfiable, thousands of parts are
	// ignored (the whole segment, once).
	for _, tc := range []struct {
		rng  string
		code int
		cr   string
		n    int
	}{
		{"bytes=-0", http.StatusRequestedRangeNotSatisfiable, fmt.Sprintf("bytes */%d", len(whole)), -1},
		{"bytes=" + strings.Repeat("4-7,", 5000) + "0-1", http.StatusOK, "", len(whole)},
		{"bytes=4-7,6-9", http.StatusPartialContent, fmt.Sprintf("bytes 4-9/%d", len(whole)), 6},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/live/class1/video/seg-0.m4s", nil)
		req.Header.Set("Range", tc.rng)
		h.ServeHTTP(rec, req)
		if rec.Code != tc.code || rec.Header().Get("Content-Range") != tc.cr || (tc.n >= 0 && rec.Body.Len() != tc.n) {
			t.Errorf("Range %.30s: %d %q, %d bytes; want %d %q", tc.rng, rec.Code, rec.Header().Get("Content-Range"), rec.Body.Len(), tc.code, tc.cr)
		}
	}
	// Parts and segments never change under their name: the same ETag as
	// VOD's bodies (internal/httpx), and a revalidation is a 304.
	tag := seg.Header().Get("ETag")
	revalidated := httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodGet, "/live/class1/video/seg-0.m4s", nil)
	req.Header.Set("If-None-Match", tag)
	h.ServeHTTP(revalidated, req)
	if tag == "" || revalidated.Code != http.StatusNotModified || revalidated.Body.Len() != 0 {
		t.Errorf("If-None-Match %q: %d, %d bytes", tag, revalidated.Code, revalidated.Body.Len())
	}
	for _, path := range []string{"/live/nope/master.m3u8", "/live/class1/subtitles/media.m3u8", "/live/class1/video/init-zz.mp4"} {
		if c := get(t, h, path).Code; c != 404 {
			t.Errorf("%s: %d", path, c)
		}
	}

	// A blocking request waiting when the session ends gets the final
	// playlist.
	msn, _, _ := video.Last()
	ch := fetch(context.Background(), fmt.Sprintf("%s/live/class1/video/media.m3u8?_HLS_msn=%d", srv.URL, msn+1))
	waitFor(t, "the request to be held", func() bool { return m.held.Load() == 1 })
	if err := m.End("class1"); err != nil {
		t.Fatal(err)
	}
	r := receive(t, ch)
	if r.code != 200 || !strings.HasSuffix(r.body, "#EXT-X-ENDLIST\n") || strings.Contains(r.body, "PRELOAD-HINT") {
		t.Errorf("%d\n%s", r.code, r.body)
	}
	if err := p.Video(9000, 0, true, []byte{1}); err != ErrEnded {
		t.Errorf("Video after End: %v", err)
	}
}

func TestViewersCounted(t *testing.T) {
	clock := newFakeClock()
	m, p, _ := liveServer(t, Config{Now: clock.Now, ViewerWindow: 10 * time.Second})
	h := m.Handler()
	for i, ua := range []string{"a", "b", "b", "c"} {
		req := httptest.NewRequest(http.MethodGet, "/live/class1/video/media.m3u8", nil)
		req.Header.Set("User-Agent", ua)
		if i == 3 {
			clock.Add(20 * time.Second) // a and b are now stale
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if n := p.Session().viewers.count(clock.Now(), 10*time.Second); n != 1 {
		t.Errorf("%d viewers, want 1", n)
	}
}
