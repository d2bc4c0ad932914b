package cache

import (
	"container/list"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// lruPolicy is a plain byte-budget LRU, the baseline for the simulation.
type lruPolicy struct {
	capacity, bytes int64
	order           *list.List // front = most recent
	items           map[string]*list.Element
}

type lruItem struct {
	key  string
	size int64
}

func newLRU(capacity int64) *lruPolicy {
	return &lruPolicy{capacity: capacity, order: list.New(), items: make(map[string]*list.Element)}
}

func (l *lruPolicy) access(key string, size int64) bool {
	if e, ok := l.items[key]; ok {
		l.order.MoveToFront(e)
		return true
	}
	for l.bytes+size > l.capacity && l.order.Len() > 0 {
		e := l.order.Back()
		it := l.order.Remove(e).(lruItem)
		delete(l.items, it.key)
		l.bytes -= it.size
	}
	l.items[key] = l.order.PushFront(lruItem{key, size})
	l.bytes += size
	return false
}

// s3Sim adapts s3fifo to the simulation's access interface.
type s3Sim struct{ p *s3fifo[struct{}] }

func (s s3Sim) access(key string, size int64) bool {
	if _, ok := s.p.get(key); ok {
		return true
	}
	s.p.add(key, size, struct{}{}, func(*node[struct{}]) {})
	return false
}

// workload describes a synthetic request stream: Zipf-popular segments plus
// a share of one-hit wonders (keys requested exactly once).
type workload struct {
	name     string
	objects  int     // popular objects
	skew     float64 // Zipf s (> 1)
	oneHit   float64 // share of requests for never-repeated keys
	requests int
}

// objectSize gives each key a deterministic size of 1 to 4 units (think
// 0.5-2 MB segments in 512 KB units).
func objectSize(id int) int64 { return int64(1 + id%4) }

// simulate returns the request hit ratio of a policy over the workload.
func simulate(w workload, access func(string, int64) bool) float64 {
	rng := rand.New(rand.NewSource(42))
	zipf := rand.NewZipf(rng, w.skew, 1, uint64(w.objects-1))
	hits, unique := 0, 0
	for range w.requests {
		var key string
		var size int64
		if rng.Float64() < w.oneHit {
			unique++
			key, size = fmt.Sprintf("once-%d", unique), objectSize(unique)
		} else {
			id := int(zipf.Uint64())
			key, size = fmt.Sprintf("seg-%d", id), objectSize(id)
		}
		if access(key, size) {
			hits++
		}
	}
	return float64(hits) / float64(w.requests)
}

// TestPolicySimulation compares S3-FIFO with LRU at equal byte budgets. Run
// with -v to print the table quoted in DESIGN.md.
func TestPolicySimulation(t *testing.T) {
	requests := 1_000_000
	if testing.Short() {
		requests = 200_000
	}
	workloads := []workload{
		{name: "zipf1.1+30%once", objects: 50_000, skew: 1.1, oneHit: 0.3, requests: requests},
		{name: "zipf1.01+50%once", objects: 50_000, skew: 1.01, oneHit: 0.5, requests: requests},
		{name: "zipf1.1 no tail", objects: 50_000, skew: 1.1, oneHit: 0, requests: requests},
	}
	var total int64
	for id := range 50_000 {
		total += objectSize(id)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-18s %7s %8s %8s %7s\n", "workload", "budget", "LRU", "S3-FIFO", "gain")
	for _, w := range workloads {
		for _, pct := range []int64{1, 5, 10, 20} {
			budget := total * pct / 100
			lru := simulate(w, newLRU(budget).access)
			s3 := simulate(w, s3Sim{newS3FIFO[struct{}](budget)}.access)
			fmt.Fprintf(&table, "%-18s %6d%% %7.2f%% %7.2f%% %+6.2f\n", w.name, pct, 100*lru, 100*s3, 100*(s3-lru))
			if w.oneHit > 0 && s3 <= lru {
				t.Errorf("%s at %d%%: S3-FIFO %.4f <= LRU %.4f", w.name, pct, s3, lru)
			}
			if s3 <= 0 || lru <= 0 {
				t.Errorf("%s at %d%%: degenerate hit ratios %.4f / %.4f", w.name, pct, s3, lru)
			}
		}
	}
	t.Log(table.String())
}
