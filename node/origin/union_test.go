package origin

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestUnion(t *testing.T) {
	mk := func(files ...string) *Dir {
		root := t.TempDir()
		for _, f := range files {
			p := filepath.Join(root, f)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, err := NewDir(root, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	media := mk("lecture/720p.mp4", "same/a.mp4")
	recs := mk("class1/video.mp4", "class1/audio.mp4", "same/b.mp4")
	u, err := NewUnion(Mount{Origin: media}, Mount{Prefix: "_recordings", Origin: recs})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	specs, err := u.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	var ids []string
	for _, s := range specs {
		got[s.ID] = s.Files
		ids = append(ids, s.ID)
	}
	if want := []string{"class1", "lecture", "same"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids = %v, want %v", ids, want)
	}
	if want := []string{"_recordings/class1/audio.mp4", "_recordings/class1/video.mp4"}; !reflect.DeepEqual(got["class1"], want) {
		t.Fatalf("class1 files = %v", got["class1"])
	}
	if want := []string{"same/a.mp4"}; !reflect.DeepEqual(got["same"], want) {
		t.Fatalf("the root mount should win for a shared id: %v", got["same"])
	}
	for _, tc := range []struct{ path, body string }{
		{"_recordings/class1/video.mp4", "class1/video.mp4"},
		{"lecture/720p.mp4", "lecture/720p.mp4"},
	} {
		o, err := u.Open(ctx, tc.path)
		if err != nil {
			t.Fatalf("open %s: %v", tc.path, err)
		}
		b := make([]byte, o.Size())
		if _, err := o.ReadAt(b, 0); err != nil || string(b) != tc.body {
			t.Fatalf("%s = %q, %v", tc.path, b, err)
		}
		o.Close()
	}
	if _, err := u.Open(ctx, "_recordings/../lecture/720p.mp4"); err == nil {
		t.Fatalf("escape through the prefix: %v", err)
	}
	if _, err := NewUnion(Mount{Prefix: "a/b", Origin: media}); err == nil {
		t.Fatal("a prefix with a slash was accepted")
	}
}

// TestUnionOfUnions: a root mount that lists prefixed paths itself (an
// edge's remote origin whose library is a union) keeps serving them.
func TestUnionOfUnions(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "rec", "class1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "rec", "class1", "video.mp4"), []byte("far"), 0o644); err != nil {
		t.Fatal(err)
	}
	farRecs, _ := NewDir(filepath.Join(root, "rec"), nil)
	farMedia, _ := NewDir(t.TempDir(), nil)
	far, _ := NewUnion(Mount{Origin: farMedia}, Mount{Prefix: "_recordings", Origin: farRecs})
	nearRecs, _ := NewDir(t.TempDir(), nil)
	near, _ := NewUnion(Mount{Origin: far}, Mount{Prefix: "_recordings", Origin: nearRecs})
	ctx := context.Background()
	specs, err := near.List(ctx)
	if err != nil || len(specs) != 1 || specs[0].Files[0] != "_recordings/class1/video.mp4" {
		t.Fatalf("list = %+v, %v", specs, err)
	}
	o, err := near.Open(ctx, specs[0].Files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Size() != 3 {
		t.Fatalf("size %d", o.Size())
	}
}
