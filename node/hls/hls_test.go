package hls

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{6, "6"},
		{6.006, "6.006"},
		{2.0 / 3, "0.666667"},
		{1001.0 / 30000, "0.033367"},
		{0.0000001, "0"},
		{-1, "0"},
		{10.5, "10.5"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatDuration(tt.in); got != tt.want {
				t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTargetDuration(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want int
	}{
		{"empty", nil, 1},
		{"short", []float64{0.2}, 1},
		{"exact", []float64{6, 6, 4}, 6},
		{"below half", []float64{6, 6.4999}, 6},
		{"half rounds up", []float64{6.5, 2}, 7},
		{"long gop", []float64{10.01, 6}, 10},
		{"tiny excess rounds away", []float64{6.0000001}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TargetDuration(tt.in)
			if got != tt.want {
				t.Errorf("TargetDuration(%v) = %d, want %d", tt.in, got, tt.want)
			}
			for _, d := range tt.in {
				if r := int(d + 0.5); r > got {
					t.Errorf("EXTINF %v rounds to %d > target %d", d, r, got)
				}
			}
		})
	}
}

func sampleMultivariant() *Multivariant {
	return &Multivariant{
		Audio: []Audio{
			{GroupID: "aud", Name: "English", Language: "en", Default: true, Channels: 2, URI: "audio-en/media.m3u8"},
			{GroupID: "aud", Name: `Fr "commentary"`, Language: "fr", Channels: 6, URI: "audio-fr/media.m3u8"},
		},
		Variants: []Variant{
			{URI: "360p/media.m3u8", Bandwidth: 1_012_345, AverageBandwidth: 800_000,
				Codecs: []string{"avc1.64001E", "mp4a.40.2"}, Width: 640, Height: 360, FrameRate: 30000.0 / 1001, Audio: "aud"},
			{URI: "720p/media.m3u8", Bandwidth: 3_500_000, AverageBandwidth: 2_900_000,
				Codecs: []string{"avc1.64001F", "mp4a.40.2"}, Width: 1280, Height: 720, FrameRate: 25, Audio: "aud"},
		},
	}
}

func TestMultivariantGolden(t *testing.T) {
	golden(t, "master.m3u8", sampleMultivariant().Bytes())
	audioOnly := &Multivariant{Variants: []Variant{
		{URI: "audio/media.m3u8", Bandwidth: 130_000, AverageBandwidth: 128_000, Codecs: []string{"mp4a.40.2"}},
	}}
	golden(t, "master-audio-only.m3u8", audioOnly.Bytes())
}

func TestMediaGolden(t *testing.T) {
	p := &Media{MapURI: "init.mp4", Segments: []Segment{
		{URI: "seg-0.m4s", Duration: 6.006},
		{URI: "seg-1.m4s", Duration: 6.4},
		{URI: "seg-2.m4s", Duration: 1.0 / 3},
	}}
	golden(t, "media.m3u8", p.Bytes())
}

// tagLine splits "#EXT-X-FOO:attrs" into the tag name and its attribute
// names and raw values, without a general playlist parser: quoted values
// are taken up to the next double quote.
func tagLine(t *testing.T, line string) (string, [][2]string) {
	t.Helper()
	name, rest, ok := strings.Cut(line, ":")
	if !ok {
		return line, nil
	}
	var out [][2]string
	for rest != "" {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			t.Fatalf("attribute without '=' in %q", line)
		}
		var val string
		if strings.HasPrefix(v, `"`) {
			end := strings.IndexByte(v[1:], '"')
			if end < 0 {
				t.Fatalf("unterminated quoted string in %q", line)
			}
			val, rest = v[:end+2], v[end+2:]
		} else {
			val, rest, _ = strings.Cut(v, ",")
			rest = "," + rest
			if rest == "," {
				rest = ""
			}
		}
		rest = strings.TrimPrefix(rest, ",")
		out = append(out, [2]string{k, val})
	}
	return name, out
}

// TestMultivariantTags checks every line of a multivariant playlist
// against the expected tags and attribute order and that each
// EXT-X-STREAM-INF is followed by its URI.
func TestMultivariantTags(t *testing.T) {
	m := sampleMultivariant()
	lines := strings.Split(strings.TrimSuffix(string(m.Bytes()), "\n"), "\n")
	if lines[0] != "#EXTM3U" || lines[1] != "#EXT-X-INDEPENDENT-SEGMENTS" {
		t.Fatalf("bad header %q", lines[:2])
	}
	wantMedia := []string{"TYPE", "GROUP-ID", "NAME", "LANGUAGE", "DEFAULT", "AUTOSELECT", "CHANNELS", "URI"}
	wantInf := []string{"BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS", "RESOLUTION", "FRAME-RATE", "AUDIO"}
	var media, inf int
	for i := 2; i < len(lines); i++ {
		name, at := tagLine(t, lines[i])
		keys := make([]string, len(at))
		for j, kv := range at {
			keys[j] = kv[0]
		}
		switch name {
		case "#EXT-X-MEDIA":
			if strings.Join(keys, ",") != strings.Join(wantMedia, ",") {
				t.Errorf("EXT-X-MEDIA attributes %v, want %v", keys, wantMedia)
			}
			if at[2][1] == `"Fr "commentary""` || strings.Count(at[2][1], `"`) != 2 {
				t.Errorf("NAME not quoted safely: %s", at[2][1])
			}
			media++
		case "#EXT-X-STREAM-INF":
			if strings.Join(keys, ",") != strings.Join(wantInf, ",") {
				t.Errorf("EXT-X-STREAM-INF attributes %v, want %v", keys, wantInf)
			}
			if i+1 >= len(lines) || lines[i+1] != m.Variants[inf].URI {
				t.Errorf("STREAM-INF %d not followed by its URI", inf)
			}
			i++
			inf++
		default:
			t.Errorf("unexpected line %q", lines[i])
		}
	}
	if media != 2 || inf != 2 {
		t.Errorf("got %d EXT-X-MEDIA and %d EXT-X-STREAM-INF, want 2 and 2", media, inf)
	}
}

// TestMediaTags checks the media playlist tag by tag: header tags, one
// EXTINF per segment followed by its URI, the EXTINF values add up, and the
// playlist ends with EXT-X-ENDLIST.
func TestMediaTags(t *testing.T) {
	segs := []Segment{{"seg-0.m4s", 6.006}, {"seg-1.m4s", 6.006}, {"seg-2.m4s", 2.002}}
	p := &Media{MapURI: "init.mp4", Segments: segs}
	lines := strings.Split(strings.TrimSuffix(string(p.Bytes()), "\n"), "\n")
	head := []string{"#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:6", "#EXT-X-MEDIA-SEQUENCE:0",
		"#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS", `#EXT-X-MAP:URI="init.mp4"`}
	for i, h := range head {
		if lines[i] != h {
			t.Fatalf("line %d = %q, want %q", i, lines[i], h)
		}
	}
	body := lines[len(head) : len(lines)-1]
	if len(body) != 2*len(segs) {
		t.Fatalf("%d body lines for %d segments", len(body), len(segs))
	}
	for i, s := range segs {
		if want := "#EXTINF:" + FormatDuration(s.Duration) + ","; body[2*i] != want {
			t.Errorf("segment %d: %q, want %q", i, body[2*i], want)
		}
		if body[2*i+1] != s.URI {
			t.Errorf("segment %d URI %q, want %q", i, body[2*i+1], s.URI)
		}
	}
	if lines[len(lines)-1] != "#EXT-X-ENDLIST" {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
}

func TestQuoteAndURILine(t *testing.T) {
	tests := []struct{ in, quoted, uri string }{
		{"plain", `"plain"`, "plain"},
		{"a\"b", `"a'b"`, "a\"b"},
		{"x\ny\r", `"xy"`, "xy"},
		{"#seg", `"#seg"`, "./#seg"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := quote(tt.in); got != tt.quoted {
				t.Errorf("quote(%q) = %s, want %s", tt.in, got, tt.quoted)
			}
			if got := uriLine(tt.in); got != tt.uri {
				t.Errorf("uriLine(%q) = %q, want %q", tt.in, got, tt.uri)
			}
		})
	}
}

func BenchmarkMediaPlaylist(b *testing.B) {
	p := &Media{MapURI: "init.mp4"}
	for i := 0; i < 600; i++ {
		p.Segments = append(p.Segments, Segment{URI: "seg-" + strings.Repeat("1", 3) + ".m4s", Duration: 6.006})
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = p.Append(buf[:0])
	}
}
