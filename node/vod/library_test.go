package vod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/internal/testmedia"
	"github.com/classmesh/classmesh/node/origin"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testmedia.Make(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"default", DefaultConfig(), true},
		{"negative", Config{SegmentTarget: -time.Second}, false},
		{"tiny", Config{SegmentTarget: time.Millisecond}, false},
		{"huge", Config{SegmentTarget: time.Hour}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestIndexReuseAndRebuild(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	o := newMemOrigin()
	o.addFile(t, "lesson", testmedia.Make(t, "h264-aac"))
	cfg := Config{IndexPath: filepath.Join(t.TempDir(), "index.db")}

	l, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	first, _ := l.Asset("lesson")
	if o.reads.Load() == 0 {
		t.Fatal("first index did not read the file")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: the persisted record is reused, the file is only opened.
	o.reads.Store(0)
	l2 := newTestLibrary(t, o, cfg)
	if n := o.reads.Load(); n != 0 {
		t.Errorf("restart read the file %d times, want 0", n)
	}
	second, _ := l2.Asset("lesson")
	if !bytes.Equal(first.MasterPlaylist(), second.MasterPlaylist()) {
		t.Error("master playlist changed after restart")
	}
	for i, r := range second.Renditions {
		if !bytes.Equal(r.MediaPlaylist(), first.Renditions[i].MediaPlaylist()) {
			t.Errorf("%s: media playlist changed after restart", r.ID)
		}
		for n, s := range r.Segments {
			if s != first.Renditions[i].Segments[n] {
				t.Errorf("%s segment %d: %+v after restart, was %+v", r.ID, n, s, first.Renditions[i].Segments[n])
			}
		}
	}

	// A changed identity rebuilds and changes the cache keys.
	o.setIdentity("lesson/lesson.mp4", "changed")
	if err := l2.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o.reads.Load() == 0 {
		t.Error("changed identity did not re-read the file")
	}
	third, _ := l2.Asset("lesson")
	r2, r3 := second.Renditions[0], third.Renditions[0]
	if r3.SourceID != "changed" || l2.CacheKey(second, r2, "seg-0.m4s") == l2.CacheKey(third, r3, "seg-0.m4s") {
		t.Errorf("source %q: cache key did not change", r3.SourceID)
	}
}

func TestCorruptIndexRecordRebuilds(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	o := newMemOrigin()
	o.addFile(t, "lesson", testmedia.Make(t, "audio-only"))
	cfg := Config{IndexPath: filepath.Join(t.TempDir(), "index.db")}
	l := newTestLibrary(t, o, cfg)
	want, _ := l.Asset("lesson")
	l.Close()

	db, err := bolt.Open(cfg.IndexPath, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketFiles).Put([]byte("lesson/lesson.mp4"), []byte("CMF\x01garbage")); err != nil {
			return err
		}
		return tx.Bucket(bucketSegments).Put([]byte(fmt.Sprint(int64(DefaultSegmentTarget))+"/lesson"), []byte{0xff})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	o.reads.Store(0)
	l2 := newTestLibrary(t, o, cfg)
	got, _ := l2.Asset("lesson")
	if o.reads.Load() == 0 || got.Status != StatusReady {
		t.Fatalf("corrupt record: reads=%d status=%s %s", o.reads.Load(), got.Status, got.Reason)
	}
	if !bytes.Equal(got.Renditions[0].MediaPlaylist(), want.Renditions[0].MediaPlaylist()) {
		t.Error("rebuilt asset differs")
	}
}

func TestChangedTargetResegments(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	o := newMemOrigin()
	o.addFile(t, "lesson", testmedia.Make(t, "h264-aac"))
	path := filepath.Join(t.TempDir(), "index.db")
	l := newTestLibrary(t, o, Config{IndexPath: path})
	a, _ := l.Asset("lesson")
	l.Close()
	l2 := newTestLibrary(t, o, Config{IndexPath: path, SegmentTarget: 2 * time.Second})
	b, _ := l2.Asset("lesson")
	if len(a.Renditions[0].Segments) != 2 || len(b.Renditions[0].Segments) != 5 {
		t.Errorf("10 s of 2 s GOPs: %d segments at 6 s, %d at 2 s; want 2 and 5",
			len(a.Renditions[0].Segments), len(b.Renditions[0].Segments))
	}
}

func TestBadInputFailsOnlyThatAsset(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	good := readFixture(t, "h264-aac")
	o := newMemOrigin()
	o.add("good", map[string][]byte{"good/720p.mp4": good})
	o.add("truncated", map[string][]byte{"truncated/720p.mp4": good[:len(good)/3]})
	o.add("garbage", map[string][]byte{"garbage/720p.mp4": bytes.Repeat([]byte("garbage!"), 512)})
	l := newTestLibrary(t, o, Config{})
	assets := l.Assets()
	if len(assets) != 3 || assets[0].ID != "garbage" || assets[1].ID != "good" || assets[2].ID != "truncated" {
		t.Fatalf("assets not sorted or missing: %v", assets)
	}
	for _, a := range assets {
		want := StatusFailed
		if a.ID == "good" {
			want = StatusReady
		}
		if a.Status != want {
			t.Errorf("%s: status %s (%s), want %s", a.ID, a.Status, a.Reason, want)
		}
		t.Logf("%s: %s", a.ID, a.Reason)
		if want == StatusFailed && !strings.HasPrefix(a.Reason, "720p.mp4: ") {
			t.Errorf("%s: reason %q does not name the file", a.ID, a.Reason)
		}
		if want == StatusFailed {
			err := l.WriteSegment(context.Background(), a, &Rendition{}, 0, io.Discard)
			if !errors.Is(err, ErrAssetFailed) || !strings.Contains(err.Error(), a.Reason) {
				t.Errorf("%s: WriteSegment = %v", a.ID, err)
			}
		}
	}
}

func TestRefreshRemovesAndListFailure(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	o := newMemOrigin()
	o.addFile(t, "a", testmedia.Make(t, "audio-only"))
	o.addFile(t, "b", testmedia.Make(t, "audio-only"))
	l := newTestLibrary(t, o, Config{})
	o.remove("a")
	if err := l.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Asset("a"); ok || len(l.Assets()) != 1 {
		t.Errorf("removed asset still listed: %v", l.Assets())
	}
	o.listErr = fmt.Errorf("%w: boom", origin.ErrUnavailable)
	if err := l.Refresh(context.Background()); !errors.Is(err, origin.ErrUnavailable) {
		t.Errorf("Refresh with failing list = %v", err)
	}
	if _, ok := l.Asset("b"); !ok {
		t.Error("failed listing dropped assets")
	}
}

func TestWriteSegmentErrors(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	o := newMemOrigin()
	o.addFile(t, "lesson", testmedia.Make(t, "audio-only"))
	l := newTestLibrary(t, o, Config{})
	a, _ := l.Asset("lesson")
	r, ok := a.Rendition("audio")
	if !ok {
		t.Fatalf("no audio rendition in %v", a.Renditions)
	}
	ctx := context.Background()
	if err := l.WriteSegment(ctx, a, r, len(r.Segments), io.Discard); !errors.Is(err, ErrNotFound) {
		t.Errorf("out of range: %v", err)
	}
	if _, err := r.SegmentSize(-1); !errors.Is(err, ErrNotFound) {
		t.Errorf("SegmentSize(-1): %v", err)
	}
	o.setReadErr(fmt.Errorf("%w: %w", origin.ErrUnavailable, context.DeadlineExceeded))
	err := l.WriteSegment(ctx, a, r, 0, io.Discard)
	if !errors.Is(err, ErrOrigin) || !errors.Is(err, origin.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read failure: %v", err)
	}
	o.setReadErr(nil)
	o.setIdentity(r.Path, "new")
	if err := l.WriteSegment(ctx, a, r, 0, io.Discard); !errors.Is(err, ErrStale) {
		t.Errorf("changed source: %v", err)
	}
}

func TestMultiRenditionAsset(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	o := newMemOrigin()
	o.add("course", map[string][]byte{
		"course/360p.mp4":    readFixture(t, "h264-aac"),
		"course/360p nb.mp4": readFixture(t, "no-bframes"),
		"course/slow.mp4":    readFixture(t, "gop10"),
	})
	l := newTestLibrary(t, o, Config{})
	a, _ := l.Asset("course")
	var ids []string
	for _, r := range a.Renditions {
		ids = append(ids, r.ID)
	}
	if got := strings.Join(ids, ","); got != "360p,360p_nb,slow,audio" {
		t.Fatalf("renditions %s", got)
	}
	p, nb, slow, audio := a.Renditions[0], a.Renditions[1], a.Renditions[2], a.Renditions[3]
	if audio.Path != "course/360p nb.mp4" {
		t.Errorf("audio taken from %s, want the first file by path", audio.Path)
	}
	// slow (two 10 s GOPs) has the fewest key frames and is the reference;
	// the 10 s files have no key frame at its 10 s boundary, so they fall
	// back to their own boundaries.
	if len(slow.Segments) != 2 || len(p.Segments) != 2 || len(nb.Segments) != 2 {
		t.Errorf("segments: slow %d, 360p %d, nb %d", len(slow.Segments), len(p.Segments), len(nb.Segments))
	}
	// The audio is cut at the first frame at or after 10 s: 469*1024 ticks.
	if len(audio.Segments) != 2 || audio.Segments[1].StartDTS != 469*1024 {
		t.Errorf("audio cut at the reference boundary: %+v", audio.Segments)
	}
	master := string(a.MasterPlaylist())
	for _, want := range []string{
		`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio 1",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="1",URI="audio/media.m3u8"`,
		`CODECS="` + p.Codec + `,` + audio.Codec + `",RESOLUTION=320x180,FRAME-RATE=30.000,AUDIO="audio"` + "\n360p/media.m3u8\n",
		"\n360p_nb/media.m3u8\n", "\nslow/media.m3u8\n",
		fmt.Sprintf("#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,", p.Bandwidth+audio.Bandwidth, p.AverageBandwidth+audio.AverageBandwidth),
	} {
		if !strings.Contains(master, want) {
			t.Errorf("master playlist lacks %q:\n%s", want, master)
		}
	}
}

func TestAlignedRenditionsShareBoundaries(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	o := newMemOrigin()
	o.add("course", map[string][]byte{
		"course/a.mp4": readFixture(t, "h264-aac"),
		"course/b.mp4": readFixture(t, "no-bframes"),
	})
	l := newTestLibrary(t, o, Config{SegmentTarget: 2 * time.Second})
	a, _ := l.Asset("course")
	ra, rb := a.Renditions[0], a.Renditions[1]
	if len(ra.Segments) != 5 || len(rb.Segments) != 5 {
		t.Fatalf("segments: %d and %d, want 5", len(ra.Segments), len(rb.Segments))
	}
	for i := range ra.Segments {
		ta := float64(ra.Segments[i].StartDTS) / float64(ra.Track.Timescale)
		tb := float64(rb.Segments[i].StartDTS) / float64(rb.Track.Timescale)
		if ta != tb {
			t.Errorf("segment %d starts at %f and %f", i, ta, tb)
		}
	}
}

// TestConcurrentRefresh reads and packages while Refresh replaces assets
// (run with -race).
func TestConcurrentRefresh(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	o := newMemOrigin()
	o.addFile(t, "lesson", testmedia.Make(t, "audio-only"))
	l := newTestLibrary(t, o, Config{})
	done := make(chan error)
	go func() {
		var err error
		for i := 0; i < 20 && err == nil; i++ {
			o.setIdentity("lesson/lesson.mp4", fmt.Sprint("v", i))
			err = l.Refresh(context.Background())
		}
		done <- err
	}()
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
		}
		for _, a := range l.Assets() {
			r := a.Renditions[0]
			err := l.WriteSegment(context.Background(), a, r, 0, io.Discard)
			if err != nil && !errors.Is(err, ErrStale) {
				t.Fatal(err)
			}
			_ = a.MasterPlaylist()
			_ = r.Init()
		}
	}
}

func TestMetrics(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	o := newMemOrigin()
	o.addFile(t, "lesson", testmedia.Make(t, "audio-only"))
	reg := prometheus.NewRegistry()
	l := newTestLibrary(t, o, Config{Registerer: reg})
	a, _ := l.Asset("lesson")
	r := a.Renditions[0]
	_ = r.Init()
	if err := l.WriteSegment(context.Background(), a, r, 0, io.Discard); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				got[f.GetName()] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[f.GetName()+"/"+m.GetLabel()[0].GetValue()] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"classmesh_origin_bytes_total":        float64(r.payload(0)),
		"classmesh_packaging_seconds/init":    1,
		"classmesh_packaging_seconds/segment": 1,
		"classmesh_vod_files_indexed_total":   1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// The real origins satisfy the library's Origin interface.
var (
	_ Origin = (*origin.Dir)(nil)
	_ Origin = (*origin.HTTP)(nil)
)

// TestDirOrigin indexes and packages through the real directory origin.
func TestDirOrigin(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "course"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "course", "360p.mp4"), readFixture(t, "h264-aac"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := origin.NewDir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := newTestLibrary(t, o, Config{})
	a, ok := l.Asset("course")
	if !ok || a.Status != StatusReady || len(a.Renditions) != 2 {
		t.Fatalf("asset: %v %+v", ok, a)
	}
	for _, r := range a.Renditions {
		var buf bytes.Buffer
		if err := l.WriteSegment(context.Background(), a, r, len(r.Segments)-1, &buf); err != nil {
			t.Fatal(err)
		}
		if int64(buf.Len()) != r.Segments[len(r.Segments)-1].Size {
			t.Errorf("%s: wrote %d bytes", r.ID, buf.Len())
		}
	}
}
