package origin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// writeFile creates path (slash-separated, under dir) with data.
func writeFile(t testing.TB, dir, path string, data []byte) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// testLibrary builds a library exercising the listing rules. outside is a
// directory next to the library holding a secret file.
func testLibrary(t *testing.T) (lib, outside string) {
	t.Helper()
	base := t.TempDir()
	lib, outside = filepath.Join(base, "lib"), filepath.Join(base, "outside")
	files := map[string]string{
		"demo/720p.mp4":         "720",
		"demo/240p.MP4":         "240",
		"demo/asset.json":       `{"title": " Demo lecture ", "description": "d", "extra": 1}`,
		"demo/notes.txt":        "ignored",
		"demo/.partial.mp4":     "hidden",
		"demo/bad name.mp4":     "bad file name",
		"broken/a.m4v":          "a",
		"broken/asset.json":     `{"title": `,
		"empty/readme.txt":      "no mp4",
		"single.mov":            "single",
		"bad id/a.mp4":          "bad id",
		".hidden/a.mp4":         "hidden",
		".dot.mp4":              "hidden",
		"root notes.txt":        "ignored",
		"nested/deeper/x.mp4":   "too deep",
		"nested/top.mp4":        "top",
		"../outside/secret.mp4": "SECRET",
	}
	for p, data := range files {
		writeFile(t, lib, p, []byte(data))
	}
	mustSymlink(t, filepath.Join(outside, "secret.mp4"), filepath.Join(lib, "escape.mp4"))
	mustSymlink(t, outside, filepath.Join(lib, "escapedir"))
	mustSymlink(t, filepath.Join(outside, "secret.mp4"), filepath.Join(lib, "demo", "escape.mp4"))
	mustSymlink(t, "demo", filepath.Join(lib, "alias"))
	mustSymlink(t, filepath.Join(lib, "single.mov"), filepath.Join(lib, "absolute.mp4"))
	return lib, outside
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestDirList(t *testing.T) {
	lib, _ := testLibrary(t)
	d, err := NewDir(lib, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []AssetSpec{
		{ID: "alias", Title: "Demo lecture", Description: "d", Files: []string{"alias/240p.MP4", "alias/720p.mp4"}},
		{ID: "broken", Title: "broken", Files: []string{"broken/a.m4v"}},
		{ID: "demo", Title: "Demo lecture", Description: "d", Files: []string{"demo/240p.MP4", "demo/720p.mp4"}},
		{ID: "nested", Title: "nested", Files: []string{"nested/top.mp4"}},
		{ID: "single", Title: "single", Files: []string{"single.mov"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List:\n got  %+v\n want %+v", got, want)
	}
}

func TestDirListCancelled(t *testing.T) {
	lib, _ := testLibrary(t)
	d, err := NewDir(lib, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.List(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("List with cancelled context: %v", err)
	}
}

func TestNewDirMissing(t *testing.T) {
	if _, err := NewDir(filepath.Join(t.TempDir(), "nope"), nil); err == nil {
		t.Fatal("NewDir on a missing directory succeeded")
	}
}

func TestDirOpenRejects(t *testing.T) {
	lib, _ := testLibrary(t)
	d, err := NewDir(lib, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		path string
		want error
	}{
		{"../x", ErrBadPath},
		{"../outside/secret.mp4", ErrBadPath},
		{"a/../../x", ErrBadPath},
		{"demo/../../outside/secret.mp4", ErrBadPath},
		{"/etc/passwd", ErrBadPath},
		{"a\\b", ErrBadPath},
		{"a\x00b", ErrBadPath},
		{"", ErrBadPath},
		{".", ErrBadPath},
		{"..", ErrBadPath},
		{".dot.mp4", ErrBadPath},
		{"escape.mp4", ErrBadPath},
		{"escapedir/secret.mp4", ErrBadPath},
		{"demo/escape.mp4", ErrBadPath},
		{"absolute.mp4", ErrBadPath},
		{"missing.mp4", ErrNotFound},
		{"demo", ErrNotFound},
		{"%2e%2e/outside/secret.mp4", ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			o, err := d.Open(context.Background(), tc.path)
			if err == nil {
				buf, _ := io.ReadAll(io.NewSectionReader(o, 0, o.Size()))
				o.Close()
				t.Fatalf("Open(%q) succeeded, read %q", tc.path, buf)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open(%q) = %v, want %v", tc.path, err, tc.want)
			}
		})
	}
}

func TestDirOpenRead(t *testing.T) {
	lib := t.TempDir()
	data := randomBytes(3<<20+17, 1)
	writeFile(t, lib, "demo/720p.mp4", data)
	mustSymlink(t, "720p.mp4", filepath.Join(lib, "demo", "link.mp4"))
	d, err := NewDir(lib, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, p := range []string{"demo/720p.mp4", "demo/link.mp4"} {
		t.Run(p, func(t *testing.T) {
			o, err := d.Open(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			fi, err := os.Stat(filepath.Join(lib, "demo", "720p.mp4"))
			if err != nil {
				t.Fatal(err)
			}
			wantID := strconv.FormatInt(fi.Size(), 10) + "-" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)
			if o.Size() != int64(len(data)) || o.Identity() != wantID {
				t.Fatalf("Size, Identity = %d, %q; want %d, %q", o.Size(), o.Identity(), len(data), wantID)
			}
			checkRandomReads(t, o, data, 200, 2)
		})
	}
}

func TestDirString(t *testing.T) {
	lib := t.TempDir()
	d, err := NewDir(lib, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	real, _ := filepath.EvalSymlinks(lib)
	if got := d.String(); got != "dir:"+real {
		t.Fatalf("String() = %q", got)
	}
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 32)
	}
	return b
}

// checkRandomReads compares count ReadAt calls at deterministic random
// offsets and lengths (some past the end) against want.
func checkRandomReads(t *testing.T, r io.ReaderAt, want []byte, count int, seed uint64) {
	t.Helper()
	rng := newRand(seed)
	size := int64(len(want))
	for i := range count {
		off := rng.int63n(size + 10)
		n := rng.int63n(300 << 10)
		if i%10 == 0 {
			n = rng.int63n(64)
		}
		buf := make([]byte, n)
		got, err := r.ReadAt(buf, off)
		wantN := max(0, min(n, size-off))
		if int64(got) != wantN {
			t.Fatalf("ReadAt(len %d, off %d) = %d, %v; want %d bytes", n, off, got, err, wantN)
		}
		if wantN < n && err != io.EOF {
			t.Fatalf("ReadAt(len %d, off %d) short read without io.EOF: %v", n, off, err)
		}
		if wantN == n && err != nil && err != io.EOF {
			t.Fatalf("ReadAt(len %d, off %d): %v", n, off, err)
		}
		if off < size && !bytes.Equal(buf[:got], want[off:off+wantN]) {
			t.Fatalf("ReadAt(len %d, off %d): wrong bytes", n, off)
		}
	}
}

// detRand is a tiny deterministic xorshift generator.
type detRand struct{ x uint64 }

func newRand(seed uint64) *detRand { return &detRand{x: seed*0x9E3779B97F4A7C15 | 1} }

func (r *detRand) int63n(n int64) int64 {
	if n <= 0 {
		return 0
	}
	r.x ^= r.x << 13
	r.x ^= r.x >> 7
	r.x ^= r.x << 17
	return int64(r.x>>1) % n
}
