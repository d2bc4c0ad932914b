package zero

import (
	"testing"
	"time"
)

func TestOr(t *testing.T) {
	n, set := 0, 7
	Or(&n, 5)
	Or(&set, 5)
	s := ""
	Or(&s, "on")
	d := time.Duration(-1)
	Or(&d, time.Second)
	if n != 5 || set != 7 || s != "on" || d != -1 {
		t.Fatalf("Or: %d %d %q %v; want 5 7 \"on\" -1ns", n, set, s, d)
	}
}
