package peer

import (
	"testing"
	"time"
)

func TestEffectiveWindow(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name               string
		lo, margin, wantLo time.Duration
	}{
		{"default window: lo down to margin+1s", 6 * s, 4 * s, 5 * s},
		{"spike window already low", 4 * s, 4 * s, 4 * s},
		{"small margin", 6 * s, 1 * s, 2 * s},
		{"no margin", 0, 0, 0},
		{"lo below margin+1s kept", 2 * s, 4 * s, 2 * s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := effectiveWindow(tc.lo, tc.margin)
			if w.lo != tc.wantLo || w.margin != tc.margin {
				t.Fatalf("effectiveWindow(%v, %v) = %+v, want lo %v margin %v", tc.lo, tc.margin, w, tc.wantLo, tc.margin)
			}
		})
	}
}

func TestStartLead(t *testing.T) {
	for _, tc := range []struct{ est, want time.Duration }{
		{100 * time.Millisecond, 200 * time.Millisecond},
		{500 * time.Millisecond, time.Second},
		{5 * time.Second, time.Second},
	} {
		if got := startLead(tc.est); got != tc.want {
			t.Errorf("startLead(%v) = %v, want %v", tc.est, got, tc.want)
		}
	}
}

func TestCauseNames(t *testing.T) {
	seen := map[string]bool{}
	for c := range numCauses {
		n := c.String()
		if n == "" || n == "unknown" || seen[n] {
			t.Fatalf("cause %d has name %q", c, n)
		}
		seen[n] = true
	}
	if Cause(-1).String() != "unknown" || numCauses.String() != "unknown" {
		t.Fatal("out-of-range causes must be unknown")
	}
	var cc causeCounters
	cc.add(CauseTimeout, 10)
	cc.add(CauseTimeout, 5)
	cc.add(numCauses, 7) // ignored
	b, n := cc.snapshot()
	if len(b) != 1 || b["timeout"] != 15 || n["timeout"] != 2 {
		t.Fatalf("snapshot %v %v", b, n)
	}
}
