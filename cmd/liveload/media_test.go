package main

import (
	"os"
	"testing"
	"time"

	"github.com/classmesh/classmesh/node/mp4"
)

// cmafTrack is an AAC track written by the project's CMAF writer.
func cmafTrack(timescale uint32) *mp4.Track {
	entry := mp4.AppendMP4ASampleEntry(nil, 2, 48000, []byte{0x11, 0x90})
	return &mp4.Track{ID: 1, Kind: mp4.KindAudio, Timescale: timescale, Language: "und", Format: "mp4a",
		SampleEntry: entry, Codec: "mp4a.40.2", SampleRate: 48000, Channels: 2}
}

func TestInitAndFragmentTimes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		timescale uint32
		dts       int64
		durs      []uint32
	}{
		{"90kHz", 90000, 123456, []uint32{3000, 3000, 3003}},
		{"48kHz large tfdt", 48000, 1 << 33, []uint32{1024, 1024}},
		{"one sample", 90000, 0, []uint32{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := cmafTrack(tc.timescale)
			ts, err := initTimescale(mp4.AppendInit(nil, tr))
			if err != nil || ts != tc.timescale {
				t.Fatalf("timescale = %d, %v; want %d", ts, err, tc.timescale)
			}
			var samples []mp4.Sample
			var want uint64
			dts := tc.dts
			for _, d := range tc.durs {
				samples = append(samples, mp4.Sample{DTS: dts, Size: 4, Duration: d, Sync: true})
				dts += int64(d)
				want += uint64(d)
			}
			frag := mp4.AppendSegmentHeader(nil, 7, tr, samples)
			frag = append(frag, make([]byte, 4*len(samples))...)
			start, dur, err := fragmentSpan(frag)
			if err != nil || start != uint64(tc.dts) || dur != want {
				t.Fatalf("span = %d+%d, %v; want %d+%d", start, dur, err, tc.dts, want)
			}
		})
	}
}

func TestParseLLHLS(t *testing.T) {
	body, err := os.ReadFile("../../../node/live/testdata/video_live.m3u8")
	if err != nil {
		t.Skip("no fixture:", err)
	}
	pl := parseLLHLS(string(body))
	if !pl.hasHint || pl.ended || len(pl.parts) == 0 {
		t.Fatalf("playlist = %+v", pl)
	}
	if pl.parts[0] != (partKey{7, 0}) {
		t.Errorf("first part %v, want 7.0", pl.parts[0])
	}
	last := pl.parts[len(pl.parts)-1]
	if !last.less(pl.hint) {
		t.Errorf("hint %v not after the last part %v", pl.hint, last)
	}
	want := time.Date(2025, 3, 1, 9, 0, 14, 0, time.UTC)
	if got := pl.pdt[7]; !got.Equal(want) {
		t.Errorf("PDT of segment 7 = %v, want %v", got, want)
	}
	if got := pl.pdt[0]; !got.Equal(want.Add(-14 * time.Second)) {
		t.Errorf("PDT of segment 0 = %v", got)
	}
}

func TestParseTS(t *testing.T) {
	pl := parseTS("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:4\n#EXTINF:2.002,\nk-4.ts\n#EXTINF:1.5,\nk-5.ts\n#EXTINF:bad,\nk-6.ts\n")
	if pl.seq != 4 || len(pl.durs) != 3 || pl.durs[0] != 2.002 || pl.durs[2] != 0 {
		t.Fatalf("parseTS = %+v", pl)
	}
	p := &tsPoller{segs: map[int]tsSeg{}, ends: map[int]float64{}, first: -1}
	now := time.Now()
	p.note(tsPlaylist{seq: 0, durs: []float64{2}}, now)
	p.note(tsPlaylist{seq: 0, durs: []float64{2, 1.5}}, now.Add(time.Second))
	if p.late || len(p.segs) != 2 || p.segs[1].mediaEnd != 3.5 || !p.segs[0].listed.Equal(now) {
		t.Fatalf("poller = %+v", p)
	}
}

func TestSummarize(t *testing.T) {
	var ms []float64
	for i := 1; i <= 100; i++ {
		ms = append(ms, float64(i))
	}
	if d := summarize(ms); d.N != 100 || d.P50 != 50 || d.P95 != 95 || d.P99 != 99 || d.Max != 100 {
		t.Fatalf("summarize = %+v", d)
	}
	if d := summarize(nil); d.N != 0 {
		t.Fatalf("empty = %+v", d)
	}
}

func FuzzFragmentSpan(f *testing.F) {
	tr := cmafTrack(90000)
	f.Add(mp4.AppendInit(nil, tr))
	f.Add(mp4.AppendSegmentHeader(nil, 1, tr, []mp4.Sample{{DTS: 9, Size: 1, Duration: 3000, Sync: true}}))
	f.Add([]byte{0, 0, 0, 1, 'm', 'o', 'o', 'f', 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = fragmentSpan(data)
		_, _ = initTimescale(data)
	})
}

func FuzzPlaylists(f *testing.F) {
	if body, err := os.ReadFile("../../../node/live/testdata/video_live.m3u8"); err == nil {
		f.Add(string(body))
	}
	f.Add("#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:2,\na.ts\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-9.1.m4s\"\n")
	f.Fuzz(func(t *testing.T, body string) {
		_ = parseLLHLS(body)
		_ = parseTS(body)
	})
}
