package cluster

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/classmesh/classmesh/cluster/transport"
)

func TestDeriveGossipKey(t *testing.T) {
	a1, a2, b := DeriveGossipKey("secret-one-0123456789"), DeriveGossipKey("secret-one-0123456789"), DeriveGossipKey("secret-two-0123456789")
	if len(a1) != 32 || !bytes.Equal(a1, a2) || bytes.Equal(a1, b) {
		t.Fatalf("gossip key not deterministic per secret: %x %x %x", a1, a2, b)
	}
	if bytes.Equal(a1, transport.DeriveKey("secret-one-0123456789", transport.InfoCA, 32)) {
		t.Fatal("gossip and CA keys are not independent")
	}
}

func TestGeneratedFilesPersist(t *testing.T) {
	dir := t.TempDir()
	s1, err := loadSecret("", dir)
	if err != nil {
		t.Fatal(err)
	}
	id1, err := loadNodeID("", dir)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := loadSecret("", dir)
	id2, _ := loadNodeID("", dir)
	if s1 != s2 || id1 != id2 || len(s1) != 43 || !validNodeID(id1) {
		t.Fatalf("not stable: %q %q / %q %q", s1, s2, id1, id2)
	}
	for _, f := range []string{secretFile, nodeIDFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v mode %v", f, err, st.Mode())
		}
	}
	if _, err := loadSecret("short", dir); !errors.Is(err, ErrWeakSecret) {
		t.Fatalf("short secret: %v", err)
	}
}

func TestKeyringPersist(t *testing.T) {
	dir := t.TempDir()
	if keys, err := loadKeyring(dir); err != nil || keys != nil {
		t.Fatalf("empty dir: %v %v", keys, err)
	}
	k1, k2 := DeriveGossipKey("a-secret-0123456789"), DeriveGossipKey("b-secret-0123456789")
	if err := storeKeyring(dir, k2, [][]byte{k1, k2}); err != nil {
		t.Fatal(err)
	}
	keys, err := loadKeyring(dir)
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], k2) || !bytes.Equal(keys[1], k1) {
		t.Fatalf("got %x, %v", keys, err)
	}
	os.WriteFile(filepath.Join(dir, keyringFile), []byte("!!!\n"), 0o600)
	if _, err := loadKeyring(dir); err == nil {
		t.Fatal("corrupt keyring accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func() Config { return Config{DataDir: "/tmp/x"} }
	for _, tc := range []struct {
		name string
		edit func(*Config)
		bad  bool
	}{
		{"defaults", func(*Config) {}, false},
		{"no data dir", func(c *Config) { c.DataDir = "" }, true},
		{"bad node id", func(c *Config) { c.NodeID = "a b" }, true},
		{"bad gossip addr", func(c *Config) { c.GossipAddr = "nope" }, true},
		{"bad role", func(c *Config) { c.Roles = []Role{"king"} }, true},
		{"bad profile", func(c *Config) { c.GossipProfile = "mars" }, true},
		{"weak secret", func(c *Config) { c.Secret = "abc" }, true},
		{"half a CA", func(c *Config) { c.TLSCA = "ca.pem" }, true},
		{"full", func(c *Config) {
			c.NodeID, c.Roles, c.GossipProfile, c.Secret = "n1", []Role{RoleEdge}, ProfileWAN, "0123456789abcdef"
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok()
			tc.edit(&c)
			err := c.Validate()
			if tc.bad != (err != nil) || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
				t.Fatalf("Validate() = %v, want bad=%v", err, tc.bad)
			}
		})
	}
	d := DefaultConfig()
	if d.GossipAddr != ":7946" || d.QUICAddr != ":7947" || d.Region != "default" || len(d.Roles) != 3 {
		t.Fatalf("DefaultConfig %+v", d)
	}
}
