package origin

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func formatEntries(es []indexEntry) string {
	var b strings.Builder
	for _, e := range es {
		kind := "f"
		if e.Dir {
			kind = "d"
		}
		fmt.Fprintf(&b, "%s %s\n", kind, e.Name)
	}
	return b.String()
}

// TestParseIndexGolden parses index pages in the styles of common servers
// (testdata/index/*.html, served at http://example.org/media/) and
// compares with the .golden files.
func TestParseIndexGolden(t *testing.T) {
	pages, err := filepath.Glob("testdata/index/*.html")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no index pages: %v", err)
	}
	dir, _ := url.Parse("http://example.org/media/")
	for _, page := range pages {
		t.Run(filepath.Base(page), func(t *testing.T) {
			body, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			got := formatEntries(parseIndex(body, dir))
			golden := strings.TrimSuffix(page, ".html") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("parseIndex(%s):\n got:\n%s\nwant:\n%s", page, got, want)
			}
		})
	}
}

func TestParseIndexCases(t *testing.T) {
	dir, _ := url.Parse("http://example.org/m/")
	tests := []struct {
		name, body, want string
	}{
		{"double quotes", `<a href="x.mp4">`, "f x.mp4\n"},
		{"single quotes", `<a href='x.mp4'>`, "f x.mp4\n"},
		{"unquoted", `<a href=x.mp4>`, "f x.mp4\n"},
		{"other attrs first", `<a class="f" title='t' href = "x.mp4">`, "f x.mp4\n"},
		{"upper case", `<A HREF="X.MP4">`, "f X.MP4\n"},
		{"newline in tag", "<a\nhref=\"d/\">", "d d\n"},
		{"entity", `<a href="a&amp;b.mp4">`, "f a&b.mp4\n"},
		{"not a link", `<abbr href="x.mp4"><link href="y.mp4">`, ""},
		{"no href", `<a name="x.mp4">`, ""},
		{"unterminated tag", `<a href="x.mp4`, "f x.mp4\n"},
		{"unterminated comment", `<!-- <a href="x.mp4">`, ""},
		{"query", `<a href="x.mp4?download=1">`, ""},
		{"parent", `<a href="..">`, ""},
		{"self", `<a href="./">`, ""},
		{"absolute same dir", `<a href="/m/x.mp4">`, "f x.mp4\n"},
		{"other dir", `<a href="/other/x.mp4">`, ""},
		{"other scheme", `<a href="https://example.org/m/x.mp4">`, ""},
		{"javascript", `<a href="javascript:alert(1)">`, ""},
		{"encoded dots", `<a href="%2e%2e/">`, ""},
		{"encoded backslash", `<a href="a%5cb.mp4">`, ""},
		{"encoded NUL", `<a href="a%00b.mp4">`, ""},
		{"bad escape", `<a href="a%zz.mp4">`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatEntries(parseIndex([]byte(tc.body), dir)); got != tc.want {
				t.Fatalf("parseIndex(%q) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

// FuzzParseIndex checks that the index parser never panics and only
// returns clean direct children.
func FuzzParseIndex(f *testing.F) {
	pages, _ := filepath.Glob("testdata/index/*.html")
	for _, p := range pages {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<a href="x.mp4"><A HREF=d/><a href='..'><!-- x`))
	dir, _ := url.Parse("http://example.org/media/")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, e := range parseIndex(body, dir) {
			if _, err := CleanPath(e.Name); err != nil || strings.Contains(e.Name, "/") {
				t.Fatalf("parseIndex returned unsafe name %q (%v)", e.Name, err)
			}
		}
	})
}

func BenchmarkParseIndex(b *testing.B) {
	body, err := os.ReadFile("testdata/index/apache.html")
	if err != nil {
		b.Fatal(err)
	}
	dir, _ := url.Parse("http://example.org/media/")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		parseIndex(body, dir)
	}
}
