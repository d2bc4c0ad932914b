package live

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// FuzzTrackParts feeds a track with part headers decoded from the input,
// as a hostile or broken relay peer could, and renders its playlist.
func FuzzTrackParts(f *testing.F) {
	var seed []byte
	for i := range 12 {
		h := MarshalPartHeader(Part{MSN: int64(i / 4), Index: i % 4, Duration: 500 * time.Millisecond,
			SegmentEnd: i%4 == 3, SegmentDuration: 2 * time.Second, TargetDuration: 2, PartTarget: 500 * time.Millisecond})
		seed = append(append(seed, byte(len(h))), h...)
	}
	f.Add(seed, uint8(0))
	f.Add(seed[len(seed)/2:], uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, tick uint8) {
		clock := newFakeClock()
		tr := newTrack("video", trackConfig{dvr: time.Minute, gapTimeout: time.Second, now: clock.Now})
		for n := 0; len(b) > 1 && n < 2000; n++ {
			size := min(int(b[0]), len(b)-1)
			p, err := UnmarshalPartHeader(b[1 : 1+size])
			b = b[1+size:]
			if err != nil {
				continue
			}
			p.Data = binary.BigEndian.AppendUint32(nil, uint32(n))
			if err := tr.PutPart(p); err != nil {
				t.Fatalf("PutPart(%+v): %v", p, err)
			}
			clock.Add(time.Duration(tick) * 100 * time.Millisecond)
		}
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for i := 1; i < len(tr.segs); i++ {
			if tr.segs[i].msn != tr.segs[i-1].msn+1 || !tr.segs[i-1].complete {
				t.Fatalf("segment %d after %d (complete %v)", tr.segs[i].msn, tr.segs[i-1].msn, tr.segs[i-1].complete)
			}
		}
		if len(tr.segs) > 0 {
			for _, skip := range []bool{true, false} {
				fresh := tr.appendPlaylistLocked(nil, skip, nil)
				if memo := tr.playlistLocked(skip, nil); string(memo) != string(fresh) {
					t.Fatalf("memoized playlist (skip %v) differs from a fresh rendering", skip)
				}
			}
		}
		if len(tr.pending) > maxPending+1 {
			t.Fatalf("%d parts pending", len(tr.pending))
		}
	})
}

// TestPlaylistMemo: the rendered playlist is shared while nothing changes
// and rendered again after a new part, an end, or new rendition reports.
func TestPlaylistMemo(t *testing.T) {
	tr := newTrack("video", trackConfig{dvr: time.Minute, gapTimeout: time.Second, now: newFakeClock().Now})
	put := func(msn int64, idx int) {
		t.Helper()
		p := Part{MSN: msn, Index: idx, Duration: 500 * time.Millisecond, Independent: idx == 0, Data: []byte{1},
			SegmentEnd: idx == 3, SegmentDuration: 2 * time.Second, TargetDuration: 2, PartTarget: 500 * time.Millisecond}
		if err := tr.PutPart(p); err != nil {
			t.Fatal(err)
		}
	}
	render := func(skip bool, reports []renditionReport) []byte {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return tr.playlistLocked(skip, reports)
	}
	for i := range 6 {
		put(int64(i/4), i%4)
	}
	audio := []renditionReport{{uri: reportURI("audio"), msn: 1, part: 1}}
	first := render(false, audio)
	if again := render(false, audio); &again[0] != &first[0] {
		t.Fatal("an unchanged track rendered its playlist again")
	}
	steps := []struct {
		name    string
		change  func()
		reports []renditionReport
		want    string
	}{
		{"new part", func() { put(1, 2) }, audio, "part-1.2.m4s"},
		{"new report", func() {}, []renditionReport{{uri: reportURI("audio"), msn: 1, part: 2}}, "LAST-PART=2"},
		{"end", tr.End, nil, "#EXT-X-ENDLIST"},
	}
	prev := first
	for _, st := range steps {
		st.change()
		got := render(false, st.reports)
		if &got[0] == &prev[0] || !strings.Contains(string(got), st.want) {
			t.Fatalf("%s: playlist not rendered again (want %q):\n%s", st.name, st.want, got)
		}
		tr.mu.Lock()
		fresh := tr.appendPlaylistLocked(nil, false, st.reports)
		tr.mu.Unlock()
		if string(got) != string(fresh) {
			t.Fatalf("%s: memoized playlist differs from a fresh rendering", st.name)
		}
		prev = got
	}
	if skip := render(true, nil); &skip[0] == &prev[0] {
		t.Fatal("skip and full playlists share one rendering")
	}
}
