package cache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRestartKeepsDiskEntries(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{MemoryBytes: -1, Dir: dir}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string][]byte{}
	for i := range 5 {
		key := fmt.Sprintf("v/demo/720p/seg-%d.m4s@abc", i)
		bodies[key] = body(i, 1000+i*777)
		fill, _ := counting(bodies[key])
		mustFetch(t, c, key, bodies[key], fill)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := newTestCache(t, cfg)
	if s := c2.Stats(); s.DiskObjects != 5 {
		t.Fatalf("after restart: %+v", s)
	}
	for key, want := range bodies {
		e, err := c2.Get(context.Background(), key, int64(len(want)), mustNotFill(t))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(e.ReadSeeker())
		if e.Tier() != TierDisk || err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s after restart: tier %s, err %v, equal %v", key, e.Tier(), err, bytes.Equal(got, want))
		}
		e.Release()
	}
}

func TestCorruptBodyIsDetectedAndRefilled(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(path string) error
		logged  string
	}{
		{"flipped byte", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 0xff
			return os.WriteFile(p, b, 0o600)
		}, "checksum mismatch"},
		{"truncated", func(p string) error { return os.Truncate(p, 10) }, "dropping index record"},
		{"deleted", os.Remove, "dropping index record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{MemoryBytes: -1, Dir: dir}
			data := body(9, 3000)
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			fill, calls := counting(data)
			mustFetch(t, c, "k", data, fill)
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			files := bodyFiles(t, dir)
			if len(files) != 1 {
				t.Fatalf("files: %v", files)
			}
			for rel := range files {
				if err := tt.corrupt(filepath.Join(dir, rel)); err != nil {
					t.Fatal(err)
				}
			}
			var logs logBuffer
			cfg.Logger = logs.logger()
			c2 := newTestCache(t, cfg)
			if tier := mustFetch(t, c2, "k", data, fill); tier != TierFill || calls.Load() != 2 {
				t.Errorf("after corruption: tier %s, %d fills, want a refill", tier, calls.Load())
			}
			if !strings.Contains(logs.String(), tt.logged) {
				t.Errorf("log does not mention %q:\n%s", tt.logged, logs.String())
			}
			if tier := mustFetch(t, c2, "k", data, mustNotFill(t)); tier != TierDisk {
				t.Errorf("after refill: tier %s, want disk", tier)
			}
			if files := bodyFiles(t, dir); len(files) != 1 {
				t.Errorf("files after refill: %v", files)
			}
		})
	}
}

func TestOpenRemovesOrphans(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	data := body(10, 500)
	fill, _ := counting(data)
	mustFetch(t, c, "k", data, fill)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	kept := bodyFiles(t, dir)
	if err := os.MkdirAll(filepath.Join(dir, "ab"), 0o755); err != nil {
		t.Fatal(err)
	}
	orphans := []string{"ab/" + tempPrefix + "123", "ab/0123456789abcdef-00"}
	for _, o := range orphans {
		if err := os.WriteFile(filepath.Join(dir, o), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	foreign := filepath.Join(dir, "README")
	if err := os.WriteFile(foreign, []byte("not ours"), 0o600); err != nil {
		t.Fatal(err)
	}
	newTestCache(t, cfg)
	got := bodyFiles(t, dir)
	delete(got, "README")
	if len(got) != len(kept) {
		t.Errorf("files after reopen %v, want %v", got, kept)
	}
	for rel := range kept {
		if _, ok := got[rel]; !ok {
			t.Errorf("indexed file %s was removed", rel)
		}
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("file outside the shards was touched: %v", err)
	}
}

func TestEvictionRespectsBudgets(t *testing.T) {
	dir := t.TempDir()
	const memBudget, diskBudget = 40_000, 100_000
	c := newTestCache(t, Config{MemoryBytes: memBudget, Dir: dir, DiskBytes: diskBudget})
	for i := range 200 {
		data := body(i, 1000+i%3000)
		fill, _ := counting(data)
		key := fmt.Sprint("k", i)
		mustFetch(t, c, key, data, fill)
		if i%3 == 0 { // some repeat traffic
			mustFetch(t, c, key, data, fill)
		}
		s := c.Stats()
		if s.MemoryBytes > memBudget || s.DiskBytes > diskBudget {
			t.Fatalf("over budget after %d fills: %+v", i, s)
		}
	}
	var onDisk int64
	files := bodyFiles(t, dir)
	for _, n := range files {
		onDisk += n
	}
	s := c.Stats()
	if onDisk != s.DiskBytes || len(files) != s.DiskObjects {
		t.Errorf("disk holds %d bytes in %d files, stats say %+v", onDisk, len(files), s)
	}
	if s.DiskObjects == 0 || s.MemoryObjects == 0 || s.DiskBytes < diskBudget/2 {
		t.Errorf("tiers unexpectedly empty: %+v", s)
	}
}

func TestEvictionDoesNotBreakReaders(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(dir string) Config
		tier string
	}{
		{"disk", func(dir string) Config { return Config{MemoryBytes: -1, Dir: dir, DiskBytes: 50_000} }, TierDisk},
		{"memory", func(string) Config { return Config{MemoryBytes: 50_000} }, TierMemory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := newTestCache(t, tt.cfg(dir))
			data := body(11, 4000)
			fill, _ := counting(data)
			mustFetch(t, c, "held", data, fill)
			e, err := c.Get(context.Background(), "held", int64(len(data)), mustNotFill(t))
			if err != nil || e.Tier() != tt.tier {
				t.Fatalf("Get: %v, tier %v", err, e.Tier())
			}
			head := make([]byte, 100)
			if _, err := io.ReadFull(e.ReadSeeker(), head); err != nil {
				t.Fatal(err)
			}
			// Hot objects (hit twice) go to the main queue and push the
			// held one out; one-hit wonders alone would not.
			for i := range 40 {
				other := body(100+i, 4000)
				f, _ := counting(other)
				mustFetch(t, c, fmt.Sprint("other", i), other, f)
				mustFetch(t, c, fmt.Sprint("other", i), other, f)
			}
			if p, ok := c.Peek("held"); ok {
				p.Release()
				t.Fatal("held object was not evicted; the test proves nothing")
			}
			rest, err := io.ReadAll(e.ReadSeeker())
			if err != nil || !bytes.Equal(append(head, rest...), data) {
				t.Fatalf("reader broken by eviction: err %v, %d bytes", err, len(head)+len(rest))
			}
			again, err := io.ReadAll(e.NewReader(context.Background()))
			if err != nil || !bytes.Equal(again, data) {
				t.Fatalf("NewReader after eviction: err %v", err)
			}
			if tt.tier == TierDisk {
				path := filepath.Join(dir, filepath.FromSlash(e.obj.rec.File))
				if _, err := os.Stat(path); err != nil {
					t.Fatalf("evicted file deleted while held: %v", err)
				}
				e.Release()
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("evicted file kept after Release: %v", err)
				}
			}
			e.Release()
		})
	}
}

func TestHotDiskObjectsArePromoted(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	small, large := body(12, 1000), body(13, 3000)
	for key, data := range map[string][]byte{"small": small, "large": large} {
		fill, _ := counting(data)
		mustFetch(t, c, key, data, fill)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.PromoteMaxBytes = 2000
	c2 := newTestCache(t, cfg)
	tiers := func(key string, data []byte) []string {
		var got []string
		for range 3 {
			got = append(got, mustFetch(t, c2, key, data, mustNotFill(t)))
		}
		return got
	}
	if got := strings.Join(tiers("small", small), ","); got != "disk,disk,memory" {
		t.Errorf("small object tiers %s, want disk,disk,memory", got)
	}
	if got := strings.Join(tiers("large", large), ","); got != "disk,disk,disk" {
		t.Errorf("large object tiers %s, want disk,disk,disk", got)
	}
}
