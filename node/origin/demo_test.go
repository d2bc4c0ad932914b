package origin

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// demoMedia is the committed demo library (scripts/make-demo-media.sh).
const demoMedia = "../../testdata/media"

// TestDemoMedia lists the committed demo library through both origins and
// reads a rendition over HTTP.
func TestDemoMedia(t *testing.T) {
	d, err := NewDir(demoMedia, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []AssetSpec{{
		ID:    "demo",
		Title: "Welcome to classmesh (demo lecture)",
		Files: []string{"demo/240p.mp4", "demo/360p.mp4", "demo/720p.mp4"},
	}}
	if len(got) != 1 || got[0].Description == "" {
		t.Fatalf("Dir List = %+v", got)
	}
	want[0].Description = got[0].Description
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Dir List:\n got  %+v\n want %+v", got, want)
	}
	h := newTestHTTP(t, fileServer(t, demoMedia), nil)
	hgot, err := h.List(context.Background())
	if err != nil || !reflect.DeepEqual(hgot, want) {
		t.Fatalf("HTTP List = %+v, %v", hgot, err)
	}
	o, err := h.Open(context.Background(), "demo/720p.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	file, err := os.ReadFile(filepath.Join(demoMedia, "demo", "720p.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, o.Size())
	if n, err := o.ReadAt(buf, 0); n != len(file) || err != nil || !bytes.Equal(buf, file) {
		t.Fatalf("ReadAt whole file = %d, %v; want the %d bytes on disk", n, err, len(file))
	}
}

// TestDemoMediaKeyframes checks with ffprobe that the renditions have
// keyframes at the same times, every 2 s.
func TestDemoMediaKeyframes(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffprobe not installed")
		}
		t.Skip("ffprobe not installed")
	}
	var ref string
	for _, r := range []string{"240p", "360p", "720p"} {
		out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
			"-skip_frame", "nokey", "-show_entries", "frame=pts_time",
			"-of", "default=noprint_wrappers=1:nokey=1",
			filepath.Join(demoMedia, "demo", r+".mp4")).Output()
		if err != nil {
			t.Fatalf("ffprobe %s: %v", r, err)
		}
		times := strings.Join(strings.Fields(string(out)), " ")
		if ref == "" {
			ref = times
			continue
		}
		if times != ref {
			t.Fatalf("%s keyframes %q differ from 240p %q", r, times, ref)
		}
	}
	want := "0.000000 2.000000 4.000000 6.000000 8.000000 10.000000 12.000000 14.000000 " +
		"16.000000 18.000000 20.000000 22.000000 24.000000 26.000000 28.000000"
	if ref != want {
		t.Fatalf("keyframes at %q, want %q", ref, want)
	}
}
