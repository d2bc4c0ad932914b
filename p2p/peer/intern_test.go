package peer

import (
	"crypto/sha256"
	"runtime"
	"testing"
	"time"
)

func TestInternerShares(t *testing.T) {
	in := NewInterner()
	a := []byte("segment bytes")
	b := append([]byte(nil), a...)
	sum := sha256.Sum256(a)
	x := in.intern(sum, a)
	y := in.intern(sum, b)
	if &x[0] != &y[0] || string(y) != string(a) {
		t.Fatal("identical segments not shared")
	}
	runtime.KeepAlive(x)
	x, y, a = nil, nil, nil
	deadline := time.Now().Add(5 * time.Second)
	for in.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("entry not dropped after its bytes were collected")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	var nilIn *Interner
	if got := nilIn.intern(sum, b); &got[0] != &b[0] {
		t.Fatal("nil interner must return its input")
	}
}
