package peer

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/classmesh/classmesh/p2p/wire"
)

func TestStoreEvictsLowest(t *testing.T) {
	s := newStore(30)
	put := func(seq uint64, n int) ([]uint64, bool) { return s.put(seq, entry{data: make([]byte, n)}) }
	for seq := uint64(0); seq < 3; seq++ {
		if ev, ok := put(seq, 10); !ok || len(ev) != 0 {
			t.Fatalf("put %d: evicted %v ok %v", seq, ev, ok)
		}
	}
	if ev, ok := put(5, 15); !ok || !reflect.DeepEqual(ev, []uint64{0, 1}) {
		t.Fatalf("put 5: evicted %v ok %v", ev, ok)
	}
	if got := s.ranges(); !reflect.DeepEqual(got, []wire.Range{{2, 2}, {5, 5}}) {
		t.Fatalf("ranges %v", got)
	}
	if _, ok := put(1, 10); ok {
		t.Fatal("an old segment displaced newer ones")
	}
	if _, ok := put(9, 31); ok {
		t.Fatal("a segment above the budget was stored")
	}
	if s.bytes() != 25 {
		t.Fatalf("bytes %d", s.bytes())
	}
}

// fakeClock is a settable clock for the bucket.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestBucketPacing(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	b := NewBucket(8_000_000, c.now) // 1 MB/s, burst 50 kB
	if d := b.reserve(50_000); d != 0 {
		t.Fatalf("burst not available: wait %v", d)
	}
	if d := b.reserve(100_000); d != 100*time.Millisecond {
		t.Fatalf("wait %v, want 100ms", d)
	}
	c.t = c.t.Add(time.Second) // refills to the burst, not beyond
	if d := b.reserve(150_000); d != 100*time.Millisecond {
		t.Fatalf("after refill wait %v, want 100ms", d)
	}
	if NewBucket(0, nil) != nil {
		t.Fatal("rate 0 should be unlimited (nil)")
	}
	var unlimited *Bucket
	if err := unlimited.Wait(context.Background(), 1<<30); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{TrackerURL: "ws://h/p2p/ws", MediaURL: "http://h/v/a/r/media.m3u8"}
	tests := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"good", func(*Config) {}, true},
		{"no tracker, no media", func(c *Config) { *c = Config{} }, true},
		{"bad scheme", func(c *Config) { c.TrackerURL = "ftp://h" }, false},
		{"no swarm in URL", func(c *Config) { c.MediaURL = "http://h/x.m3u8" }, false},
		{"swarm override", func(c *Config) { c.MediaURL = "http://h/x.m3u8"; c.Swarm = "vod/a/r" }, true},
		{"negative rate", func(c *Config) { c.UplinkBitsPerSec = -1 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v", err)
			}
		})
	}
}
