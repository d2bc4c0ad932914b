package cache

import (
	"fmt"
	"slices"
	"testing"
)

// keysOf returns the keys of a queue, oldest first.
func keysOf(q *fifo[int]) []string {
	var ks []string
	for n := q.head; n != nil; n = n.next {
		ks = append(ks, n.key)
	}
	return ks
}

// collect returns an evict callback appending to *out.
func collect(out *[]string) func(*node[int]) {
	return func(n *node[int]) { *out = append(*out, n.key) }
}

func TestS3FIFOBasics(t *testing.T) {
	tests := []struct {
		name      string
		capacity  int64
		run       func(p *s3fifo[int], ev *[]string)
		small     []string
		main      []string
		evicted   []string
		ghostKeys []string
	}{
		{
			name:     "new objects enter the small queue",
			capacity: 100,
			run: func(p *s3fifo[int], ev *[]string) {
				p.add("a", 5, 0, collect(ev))
				p.add("b", 5, 0, collect(ev))
			},
			small: []string{"a", "b"},
		},
		{
			name:     "unaccessed small objects are evicted into the ghost queue",
			capacity: 100,
			run: func(p *s3fifo[int], ev *[]string) {
				for i := range 21 {
					p.add(fmt.Sprint(i), 5, 0, collect(ev))
				}
			},
			// Eviction starts only when the whole budget is used.
			small:     []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"},
			main:      nil,
			evicted:   []string{"0"},
			ghostKeys: []string{"0"},
		},
		{
			name:     "accessed small objects move to main",
			capacity: 20,
			run: func(p *s3fifo[int], ev *[]string) {
				p.add("a", 2, 0, collect(ev))
				p.get("a")
				for _, k := range []string{"b", "c", "d", "e", "f", "g", "h", "i", "j", "k"} {
					p.add(k, 2, 0, collect(ev))
				}
			},
			small:     []string{"c", "d", "e", "f", "g", "h", "i", "j", "k"},
			main:      []string{"a"},
			evicted:   []string{"b"},
			ghostKeys: []string{"b"},
		},
		{
			name:     "a ghost hit is inserted into main",
			capacity: 20,
			run: func(p *s3fifo[int], ev *[]string) {
				p.add("a", 2, 0, collect(ev))
				p.add("b", 2, 0, collect(ev))
				p.evictOne(collect(ev)) // a → ghost
				p.add("a", 2, 0, collect(ev))
			},
			small:   []string{"b"},
			main:    []string{"a"},
			evicted: []string{"a"},
		},
		{
			name:     "main reinserts objects with a non-zero counter",
			capacity: 20,
			run: func(p *s3fifo[int], ev *[]string) {
				p.restore("m1", 2, 0, queueMain, 0)
				p.restore("m2", 2, 0, queueMain, 2)
				p.restore("m3", 2, 0, queueMain, 0)
				p.evictMain(collect(ev)) // m1 out
				p.get("m3")
				p.evictMain(collect(ev)) // m2 reinserted (freq 1), m3 reinserted (freq 0), m2 → freq 0, m3 out
			},
			main:    []string{"m2"},
			evicted: []string{"m1", "m3"},
		},
		{
			name:     "objects larger than the small queue are refused",
			capacity: 100,
			run: func(p *s3fifo[int], ev *[]string) {
				if p.add("big", 11, 0, collect(ev)) {
					panic("admitted")
				}
				if !p.add("ok", 10, 0, collect(ev)) {
					panic("refused")
				}
			},
			small: []string{"ok"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newS3FIFO[int](tt.capacity)
			var ev []string
			tt.run(p, &ev)
			if got := keysOf(&p.small); !slices.Equal(got, tt.small) {
				t.Errorf("small = %v, want %v", got, tt.small)
			}
			if got := keysOf(&p.main); !slices.Equal(got, tt.main) {
				t.Errorf("main = %v, want %v", got, tt.main)
			}
			if !slices.Equal(ev, tt.evicted) {
				t.Errorf("evicted = %v, want %v", ev, tt.evicted)
			}
			if tt.ghostKeys != nil {
				var g []string
				for k := range p.ghost.keys {
					g = append(g, k)
				}
				slices.Sort(g)
				if !slices.Equal(g, tt.ghostKeys) {
					t.Errorf("ghost = %v, want %v", g, tt.ghostKeys)
				}
			}
			checkInvariants(t, p)
		})
	}
}

// checkInvariants verifies the policy's bookkeeping against its lists.
func checkInvariants(t *testing.T, p *s3fifo[int]) {
	t.Helper()
	if p.bytes() > p.capacity {
		t.Errorf("holds %d bytes, capacity %d", p.bytes(), p.capacity)
	}
	count := 0
	for _, q := range []*fifo[int]{&p.small, &p.main} {
		var bytes int64
		n := 0
		for e := q.head; e != nil; e = e.next {
			if p.items[e.key] != e {
				t.Errorf("%q in a queue but not indexed", e.key)
			}
			bytes += e.size
			n++
		}
		if bytes != q.bytes || n != q.n {
			t.Errorf("queue accounting: %d bytes/%d items, recorded %d/%d", bytes, n, q.bytes, q.n)
		}
		count += n
	}
	if count != len(p.items) {
		t.Errorf("%d queued, %d indexed", count, len(p.items))
	}
	if p.ghost.bytes > p.ghost.capacity {
		t.Errorf("ghost holds %d bytes, capacity %d", p.ghost.bytes, p.ghost.capacity)
	}
}

func TestS3FIFOBudgetUnderChurn(t *testing.T) {
	p := newS3FIFO[int](10_000)
	for i := range 200_000 {
		k := fmt.Sprint((i * 7919) % 5000)
		if _, ok := p.get(k); !ok {
			p.add(k, int64(1+i%97), i, func(*node[int]) {})
		}
		if i%20_000 == 0 {
			checkInvariants(t, p)
		}
	}
	checkInvariants(t, p)
	if len(p.ghost.order)-p.ghost.head > 2*len(p.ghost.keys)+2048 {
		t.Errorf("ghost queue leaks: %d entries for %d keys", len(p.ghost.order)-p.ghost.head, len(p.ghost.keys))
	}
}

func TestS3FIFOScanResistance(t *testing.T) {
	// A hot set that fits in main survives a long scan of one-hit wonders.
	p := newS3FIFO[int](1000)
	hot := make([]string, 50)
	for i := range hot {
		hot[i] = fmt.Sprint("hot", i)
		p.add(hot[i], 10, 0, func(*node[int]) {})
		p.get(hot[i])
	}
	for i := range 10_000 {
		p.add(fmt.Sprint("scan", i), 10, 0, func(*node[int]) {})
		if i%100 == 0 {
			for _, k := range hot {
				p.get(k)
			}
		}
	}
	for _, k := range hot {
		if _, ok := p.peek(k); !ok {
			t.Errorf("hot object %s was evicted by the scan", k)
		}
	}
	checkInvariants(t, p)
}

func TestS3FIFORemoveAndRestore(t *testing.T) {
	p := newS3FIFO[int](100)
	p.restore("a", 30, 1, queueMain, 3)
	p.restore("b", 30, 2, queueSmall, 0)
	p.restore("c", 30, 3, queueMain, 0)
	p.restore("d", 30, 4, queueSmall, 0)
	var ev []string
	p.shrink(collect(&ev))
	if !slices.Equal(ev, []string{"b"}) {
		t.Errorf("shrink evicted %v, want [b]", ev)
	}
	if n, ok := p.remove("a"); !ok || n.value != 1 {
		t.Errorf("remove(a) = %v, %v", n, ok)
	}
	if _, ok := p.remove("a"); ok {
		t.Error("second remove(a) succeeded")
	}
	if _, ok := p.ghost.keys["a"]; ok {
		t.Error("remove left a ghost")
	}
	if p.len() != 2 || p.bytes() != 60 {
		t.Errorf("len %d bytes %d, want 2 and 60", p.len(), p.bytes())
	}
	checkInvariants(t, p)
}
