package peer

import (
	"runtime"
	"sync"
	"unsafe"
	"weak"
)

// Interner lets the peers of one process share the bytes of identical
// verified segments, so N emulated viewers of one stream hold one copy
// of each segment instead of N (classmesh swarm runs 100 of them). It
// keeps only weak references: a segment's bytes are freed once no peer's
// store holds them. The zero value is not usable; call NewInterner.
type Interner struct {
	mu sync.Mutex
	m  map[[32]byte]weak.Pointer[byte]
}

// NewInterner returns an empty Interner.
func NewInterner() *Interner {
	return &Interner{m: make(map[[32]byte]weak.Pointer[byte])}
}

// intern returns the shared copy of b (whose SHA-256 is sum), adopting b
// when there is none. Bytes are never modified after interning.
func (in *Interner) intern(sum [32]byte, b []byte) []byte {
	if in == nil || len(b) == 0 {
		return b
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if wp, ok := in.m[sum]; ok {
		if p := wp.Value(); p != nil {
			return unsafe.Slice(p, len(b)) // same hash, same bytes, same length
		}
	}
	in.m[sum] = weak.Make(&b[0])
	runtime.AddCleanup(&b[0], in.forget, sum)
	return b
}

// forget drops a dead entry (it may have been replaced meanwhile).
func (in *Interner) forget(sum [32]byte) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if wp, ok := in.m[sum]; ok && wp.Value() == nil {
		delete(in.m, sum)
	}
}

// Len is the number of segments currently shared (for tests and stats).
func (in *Interner) Len() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.m)
}
