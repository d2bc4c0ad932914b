package wire_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPeerDoesNotImportTracker: the Go peer and this package speak the
// protocol without the tracker (package p2p) in their dependencies.
func TestPeerDoesNotImportTracker(t *testing.T) {
	const tracker = "github.com/classmesh/classmesh/p2p"
	for _, pkg := range []string{"github.com/classmesh/classmesh/p2p/wire", "github.com/classmesh/classmesh/p2p/peer"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == tracker {
				t.Errorf("%s imports the tracker %s", pkg, tracker)
			}
		}
	}
}
