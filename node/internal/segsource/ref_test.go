package segsource

import (
	"errors"
	"testing"
)

// Every case of the route's old parseSegmentNumber test is here, with the
// names that are not segments at all.
func TestParse(t *testing.T) {
	tests := []struct {
		asset, rend, name string
		want              SegmentRef
		err               error
	}{
		{"demo", "720p", "seg-0.m4s", Segment("demo", "720p", 0), nil},
		{"demo", "720p", "seg-17.m4s", Segment("demo", "720p", 17), nil},
		{"demo", "720p", "seg-999999.m4s", Segment("demo", "720p", 999999), nil},
		{"demo", "audio", "init.mp4", SegmentRef{Asset: "demo", Rendition: "audio", Kind: KindInit}, nil},
		{"demo", "720p", "seg-1000000.m4s", SegmentRef{}, ErrBadName},
		{"demo", "720p", "seg-.m4s", SegmentRef{}, ErrBadName},
		{"demo", "720p", "seg-01.m4s", SegmentRef{}, ErrBadName},
		{"demo", "720p", "seg--1.m4s", SegmentRef{}, ErrBadName},
		{"demo", "720p", "seg-+1.m4s", SegmentRef{}, ErrBadName},
		{"demo", "720p", "seg-1a.m4s", SegmentRef{}, ErrBadName},
		{"demo", "720p", "seg-0x1.m4s", SegmentRef{}, ErrBadName},
		{"demo", "720p", "seg-99999999999999999999.m4s", SegmentRef{}, ErrBadName},
		{"demo", "720p", "seg-1.m4s.bak", SegmentRef{}, ErrNotObject},
		{"demo", "720p", "seg-1.mp4", SegmentRef{}, ErrNotObject},
		{"demo", "720p", "init.mp4.bak", SegmentRef{}, ErrNotObject},
		{"demo", "720p", "media.m3u8", SegmentRef{}, ErrNotObject},
		{"demo", "720p", "passwd", SegmentRef{}, ErrNotObject},
		{"demo", "720p", "", SegmentRef{}, ErrNotObject},
		{"..", "720p", "seg-1.m4s", SegmentRef{}, ErrBadName},
		{"demo", "", "seg-1.m4s", SegmentRef{}, ErrBadName},
		{"demo", "a/b", "init.mp4", SegmentRef{}, ErrBadName},
	}
	for _, tc := range tests {
		t.Run(tc.asset+"/"+tc.rend+"/"+tc.name, func(t *testing.T) {
			got, err := Parse(tc.asset, tc.rend, tc.name)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) || got != tc.want {
				t.Fatalf("Parse = %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
			if err == nil && got.Object() != tc.name {
				t.Fatalf("Object() = %q, want the parsed name %q", got.Object(), tc.name)
			}
		})
	}
}

func TestRefKey(t *testing.T) {
	for _, tc := range []struct {
		ref  SegmentRef
		want string
	}{
		{Segment("demo", "720p", 3), "demo/720p/seg-3.m4s"},
		{SegmentRef{Asset: "demo", Rendition: "audio", Kind: KindInit}, "demo/audio/init.mp4"},
	} {
		if got := tc.ref.Key(); got != tc.want {
			t.Errorf("%+v.Key() = %q, want %q", tc.ref, got, tc.want)
		}
	}
}
