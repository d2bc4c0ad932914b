package origin

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{"demo/720p.mp4", true},
		{"lecture.mp4", true},
		{"a/b/c.mp4", true},
		{"%2e%2e/x", true}, // literal name; decoding is the HTTP layer's job
		{"caf\u00e9.mp4", true},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a/../../x", false},
		{"a/./b", false},
		{"a/..", false},
		{"/etc/passwd", false},
		{"a\\b", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a//b", false},
		{"a/", false},
		{".hidden/x.mp4", false},
		{"a/.git", false},
		{"\xff.mp4", false},
		{strings.Repeat("a", maxPathLen+1), false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, err := CleanPath(tc.path)
			if tc.ok {
				if err != nil || got != tc.path {
					t.Fatalf("CleanPath(%q) = %q, %v; want it accepted unchanged", tc.path, got, err)
				}
				return
			}
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("CleanPath(%q) error = %v; want ErrBadPath", tc.path, err)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"demo", true},
		{"Lecture_01-v2.final", true},
		{"x.", true},
		{"", false},
		{".", false},
		{"..", false},
		{".hidden", false},
		{"a b", false},
		{"a/b", false},
		{"caf\u00e9", false},
		{"a%2f", false},
		{strings.Repeat("a", 256), false},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			if got := ValidID(tc.id); got != tc.ok {
				t.Fatalf("ValidID(%q) = %v, want %v", tc.id, got, tc.ok)
			}
		})
	}
}

func TestIsMP4Name(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a.mp4", true}, {"a.MP4", true}, {"a.m4v", true}, {"a.MoV", true},
		{"a.mkv", false}, {"mp4", false}, {"a.mp4.part", false}, {"asset.json", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsMP4Name(tc.name); got != tc.ok {
				t.Fatalf("IsMP4Name(%q) = %v, want %v", tc.name, got, tc.ok)
			}
		})
	}
}

// FuzzCleanPath checks that an accepted path never leaves the root.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"demo/720p.mp4", "../x", "a/../../x", "/etc/passwd",
		"a\\b", "a\x00b", "", ".", "a//b", "%2e%2e/x", "..\\..\\x", "a/./b"} {
		f.Add(s)
	}
	const root = "/srv/library"
	f.Fuzz(func(t *testing.T, p string) {
		got, err := CleanPath(p)
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("error %v does not wrap ErrBadPath", err)
			}
			return
		}
		if got != p {
			t.Fatalf("CleanPath(%q) changed the path to %q", p, got)
		}
		joined := filepath.Join(root, p)
		if !strings.HasPrefix(joined, root+"/") {
			t.Fatalf("accepted %q escapes: %q", p, joined)
		}
		if filepath.Clean(p) != p || strings.ContainsAny(p, "\\\x00") {
			t.Fatalf("accepted unclean path %q", p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg[0] == '.' {
				t.Fatalf("accepted %q with segment %q", p, seg)
			}
		}
	})
}

func BenchmarkCleanPath(b *testing.B) {
	for b.Loop() {
		if _, err := CleanPath("lectures-2025/week-03/720p.mp4"); err != nil {
			b.Fatal(err)
		}
	}
}
