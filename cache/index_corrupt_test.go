package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorruptIndexIsRebuilt reproduces finding 7 of issue 11: one corrupted
// page in the bbolt index made New panic. The disk tier must start empty
// with a WARN line and refill.
func TestCorruptIndexIsRebuilt(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(b []byte)
	}{
		{"middle of every leaf page overwritten", func(b []byte) {
			for off := 2 * 4096; off+4096 <= len(b); off += 4096 {
				if b[off+8] != 0x02 { // page header flags: leaf
					continue
				}
				for i := off + 2048; i < off+2048+256; i++ {
					b[i] = 0xa5
				}
			}
		}},
		{"every data page header", func(b []byte) {
			for off := 2 * 4096; off+16 <= len(b); off += 4096 {
				for i := off; i < off+16; i++ {
					b[i] = 0xff
				}
			}
		}},
		{"meta pages", func(b []byte) {
			for i := 0; i < 2*4096 && i < len(b); i++ {
				b[i] ^= 0x5a
			}
		}},
		{"truncated", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var logs logBuffer
			cfg := Config{MemoryBytes: -1, Dir: dir, Logger: logs.logger()}
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 300)
			for i := range keys {
				keys[i] = fmt.Sprintf("v/demo/720p/seg-%d.m4s@%s", i, strings.Repeat("x", 40))
				fill, _ := counting(body(i, 100+i))
				mustFetch(t, c, keys[i], body(i, 100+i), fill)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			idx := filepath.Join(dir, indexFile)
			b, err := os.ReadFile(idx)
			if err != nil {
				t.Fatal(err)
			}
			if tt.corrupt == nil {
				b = b[:len(b)/3]
			} else {
				tt.corrupt(b)
			}
			if err := os.WriteFile(idx, b, 0o600); err != nil {
				t.Fatal(err)
			}

			c2 := newTestCache(t, cfg)
			if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "index") {
				t.Errorf("no WARN line about the index:\n%s", logs.String())
			}
			// Every key is servable: from disk if its record survived, else refilled.
			for i, key := range keys {
				want := body(i, 100+i)
				fill, _ := counting(want)
				mustFetch(t, c2, key, want, fill)
			}
			if err := c2.Close(); err != nil {
				t.Fatal(err)
			}
			// The rebuilt index opens cleanly.
			c3 := newTestCache(t, Config{MemoryBytes: -1, Dir: dir})
			if s := c3.Stats(); s.DiskObjects != len(keys) {
				t.Errorf("after rebuild and refill: %d objects on disk, want %d", s.DiskObjects, len(keys))
			}
		})
	}
}
