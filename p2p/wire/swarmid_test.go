package wire

import (
	"strings"
	"testing"
)

func TestParseSwarm(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/v/demo/v720/media.m3u8", "vod/demo/v720", true},
		{"/v/demo/v720/seg-12.m4s", "vod/demo/v720", true},
		{"/v/demo/v720/hashes.json?x=1", "vod/demo/v720", true},
		{"/t/abc.def/v/demo/v720/media.m3u8", "vod/demo/v720", true},
		{"/t/abc/live/class1/video/part-1.0.m4s", "live/class1/video", true},
		{"https://edge.example/t/tok/v/demo/v720/seg-1.m4s?sig=1", "vod/demo/v720", true},
		{"/live/s-1/a_1/media.m3u8", "live/s-1/a_1", true},
		{"/v/demo/master.m3u8", "", false},
		{"/v/demo/v720/", "", false},
		{"/v/../v720/media.m3u8", "", false},
		{"/v/de mo/v720/media.m3u8", "", false},
		{"/x/demo/v720/media.m3u8", "", false},
		{"/t//v/demo/v720/media.m3u8", "", false},
		{"v/demo/v720/media.m3u8", "", false},
		{"/v/demo/v720/a/b", "", false},
		{"/v/" + strings.Repeat("a", 129) + "/r/m", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseSwarm(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseSwarm(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseSwarm(f *testing.F) {
	for _, s := range []string{"/v/demo/v720/media.m3u8", "/t/x/v/a/b/c", "/live/s/r/seg-1.m4s", "http://h/v/a/b/c?x", "/v/a/b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := ParseSwarm(s)
		if ok != ValidSwarm(id) && ok {
			t.Fatalf("ParseSwarm(%q) = %q, not a valid swarm", s, id)
		}
		if !ok && id != "" {
			t.Fatalf("not ok but id %q", id)
		}
		if ok {
			kind, name, rend, _ := SplitSwarm(id)
			if kind+"/"+name+"/"+rend != id {
				t.Fatalf("split mismatch %q", id)
			}
		}
	})
}

func TestSwarmIDRoundTrip(t *testing.T) {
	for _, kind := range []string{KindVOD, KindLive} {
		id := SwarmID(kind, "lecture-1", "v720")
		k, n, r, ok := SplitSwarm(id)
		if !ok || k != kind || n != "lecture-1" || r != "v720" {
			t.Errorf("SplitSwarm(%q) = %q %q %q %v", id, k, n, r, ok)
		}
	}
	if ValidSwarm(SwarmID(KindVOD, "..", "v")) {
		t.Error("SwarmID does not validate, ValidSwarm must")
	}
}
