package testmedia

import (
	"os"
	"testing"
)

func TestFixtures(t *testing.T) {
	t.Setenv("CLASSMESH_TESTMEDIA_DIR", t.TempDir())
	want := map[string][]string{
		"h264-aac":   {"video", "audio"},
		"faststart":  {"video", "audio"},
		"fragmented": {"video", "audio"},
		"audio-only": {"audio"},
		"video-only": {"video"},
		"hevc":       {"video"},
		"gop10":      {"video", "audio"},
		"editlist":   {"video", "audio"},
		"two-audio":  {"video", "audio", "audio"},
		"no-bframes": {"video", "audio"},
	}
	if len(Names()) != len(want) {
		t.Fatalf("Names() = %v, want %d fixtures", Names(), len(want))
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			path := Make(t, name)
			if again := Make(t, name); again != path {
				t.Fatalf("second Make = %q, want cached %q", again, path)
			}
			p := ProbeFile(t, path)
			var kinds []string
			for _, s := range p.Streams {
				kinds = append(kinds, s.CodecType)
				if s.Packets() <= 0 {
					t.Errorf("stream %d has %d packets", s.Index, s.Packets())
				}
			}
			if len(kinds) != len(want[name]) {
				t.Fatalf("streams %v, want %v", kinds, want[name])
			}
			for i := range kinds {
				if kinds[i] != want[name][i] {
					t.Errorf("stream %d is %s, want %s", i, kinds[i], want[name][i])
				}
			}
		})
	}
}

func TestTwoAudioLanguages(t *testing.T) {
	p := ProbeFile(t, Make(t, "two-audio"))
	if len(p.Streams) != 3 {
		t.Fatalf("%d streams", len(p.Streams))
	}
	if got := p.Streams[1].Tags["language"]; got != "eng" {
		t.Errorf("stream 1 language %q, want eng", got)
	}
	if got := p.Streams[2].Tags["language"]; got != "fra" {
		t.Errorf("stream 2 language %q, want fra", got)
	}
}

func TestUnknownFixture(t *testing.T) {
	if _, ok := Lookup("nope"); ok {
		t.Fatal("Lookup(nope) found a fixture")
	}
}

func TestCacheDirEnv(t *testing.T) {
	t.Setenv("CLASSMESH_TESTMEDIA_DIR", "/some/dir")
	d, err := CacheDir()
	if err != nil || d != "/some/dir" {
		t.Fatalf("CacheDir() = %q, %v", d, err)
	}
	os.Unsetenv("CLASSMESH_TESTMEDIA_DIR")
	d, err = CacheDir()
	if err != nil || d == "" || d == "/some/dir" {
		t.Fatalf("CacheDir() without env = %q, %v", d, err)
	}
}
