package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/classmesh/classmesh/control"
)

// TestFirstBootstrapCreatesAdminToken: a lone node bootstraps the catalog,
// creates one admin token, keeps it in a 0600 file and only its hash in
// the catalog; a restart does not create another.
func TestFirstBootstrapCreatesAdminToken(t *testing.T) {
	data := t.TempDir()
	n := mustNewNode(t, Config{DataDir: data, MediaDir: demoDir(t)})
	tok := n.AdminToken()
	if len(tok) < 20 {
		t.Fatalf("admin token %q", tok)
	}
	path := filepath.Join(data, "admin-token")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", st, err)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != tok {
		t.Fatal("token file differs from the token")
	}
	rec, err := n.Catalog().TokenByHash(control.HashSecret(tok))
	if err != nil || rec.Role != "admin" {
		t.Fatalf("catalog token: %+v %v", rec, err)
	}
	all, _ := n.Catalog().List(control.KindToken, nil)
	if strings.Contains(string(all[0]), tok) {
		t.Fatal("the catalog stores the token itself")
	}
	n.Close()
	n2 := mustNewNode(t, Config{DataDir: data, MediaDir: demoDir(t)})
	if n2.AdminToken() != "" {
		t.Fatal("a restart created another admin token")
	}
	if all, _ := n2.Catalog().List(control.KindToken, nil); len(all) != 1 {
		t.Fatalf("%d tokens after restart", len(all))
	}
}
