package viewers

import (
	"errors"
	"strings"
	"testing"
)

const masterPL = `#EXTM3U
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=1012345,AVERAGE-BANDWIDTH=800000,CODECS="avc1.64001E,mp4a.40.2",RESOLUTION=640x360
360p/media.m3u8
#EXT-X-STREAM-INF:CODECS="avc1.64001F,mp4a.40.2",BANDWIDTH=3500000,RESOLUTION=1280x720
720p/media.m3u8?token=x
#EXT-X-STREAM-INF:BANDWIDTH=300000
240p.m3u8
`

const mediaPL = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init.mp4"
#EXTINF:6.006,
seg-0.m4s
#EXTINF:6.4,
seg-1.m4s?sig=1
#EXTINF:0.333333,
seg-2.m4s
#EXT-X-ENDLIST
`

const livePL = `#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:40
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.0,
a.m4s
#EXT-X-PART:DURATION=0.5,URI="part.m4s"
#EXTINF:2.0,
b.m4s
`

func TestParsePlaylist(t *testing.T) {
	pl, err := ParsePlaylist([]byte(masterPL))
	if err != nil {
		t.Fatal(err)
	}
	want := []Variant{{"360p/media.m3u8", 1012345, "360p"}, {"720p/media.m3u8?token=x", 3500000, "720p"}, {"240p.m3u8", 300000, "240p"}}
	if len(pl.Variants) != len(want) || pl.Media != nil {
		t.Fatalf("variants %+v", pl.Variants)
	}
	for i := range want {
		if pl.Variants[i] != want[i] {
			t.Errorf("variant %d = %+v, want %+v", i, pl.Variants[i], want[i])
		}
	}

	pl, err = ParsePlaylist([]byte(mediaPL))
	if err != nil {
		t.Fatal(err)
	}
	m := pl.Media
	if m.Init != "init.mp4" || m.TargetDuration != 6 || !m.Ended || len(m.Segments) != 3 {
		t.Fatalf("media %+v", m)
	}
	if s := m.Segments[1]; s.Seq != 1 || s.URI != "seg-1.m4s?sig=1" || s.Duration != 6.4 {
		t.Fatalf("segment 1 %+v", s)
	}

	pl, err = ParsePlaylist([]byte(livePL))
	if err != nil {
		t.Fatal(err)
	}
	if m := pl.Media; m.Ended || m.Segments[0].Seq != 40 || m.Segments[1].Seq != 41 {
		t.Fatalf("live %+v", m)
	}

	for _, bad := range []string{"", "hello", "#EXTM3U\nseg.m4s\n", "#EXTM3U\n#EXTINF:abc,\nx\n", "#EXTM3U\n#EXTINF:-1,\nx\n",
		"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-3\n", "#EXTM3U\n#EXT-X-VERSION:3\n", "#EXTM3U\n" + strings.Repeat("x", maxLineBytes+1)} {
		if _, err := ParsePlaylist([]byte(bad)); !errors.Is(err, ErrPlaylist) {
			t.Errorf("ParsePlaylist(%.30q) = %v, want ErrPlaylist", bad, err)
		}
	}
}

func TestPickVariant(t *testing.T) {
	pl, _ := ParsePlaylist([]byte(masterPL))
	tests := []struct {
		name     string
		want     string
		downlink int64
		pick     string
	}{
		{"highest without cap", "", 0, "720p"},
		{"nearest under cap", "", 2_000_000, "360p"},
		{"lowest when none fits", "", 100_000, "240p"},
		{"by name", "360p", 0, "360p"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := pickVariant(pl.Variants, tc.want, tc.downlink)
			if err != nil || v.Name != tc.pick {
				t.Fatalf("got %q, %v; want %q", v.Name, err, tc.pick)
			}
		})
	}
	if _, err := pickVariant(pl.Variants, "1080p", 0); err == nil {
		t.Fatal("unknown rendition accepted")
	}
}

func TestParseRate(t *testing.T) {
	tests := map[string]int64{"5mbit": 5_000_000, "500kbit": 500_000, "2.5Mbps": 2_500_000, "1gbit": 1_000_000_000,
		"64000": 64_000, "": 0, "0": 0, "3M": 3_000_000}
	for in, want := range tests {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"fast", "-1mbit", "1e20", "mbit"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}

// FuzzPlaylist: playlists come from the network; the parser must not
// panic and must respect its bounds.
func FuzzPlaylist(f *testing.F) {
	for _, s := range []string{masterPL, mediaPL, livePL, "#EXTM3U\n", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=\"\n",
		"#EXTM3U\n#EXT-X-MAP:URI=\"\n#EXTINF:1\nseg-99999999999999999999.m4s\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pl, err := ParsePlaylist(b)
		if err != nil {
			return
		}
		if len(pl.Variants) > maxVariants {
			t.Fatalf("%d variants", len(pl.Variants))
		}
		if pl.Media != nil {
			if len(pl.Media.Segments) > maxSegments {
				t.Fatalf("%d segments", len(pl.Media.Segments))
			}
			for _, s := range pl.Media.Segments {
				if s.Duration < 0 || s.Duration > 3600 {
					t.Fatalf("duration %v", s.Duration)
				}
			}
		}
	})
}
