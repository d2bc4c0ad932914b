package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
)

// mtOperatorCA writes an ECDSA CA to dir and returns the two file paths.
func mtOperatorCA(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "operator CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	cf, kf := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return cf, kf
}

func TestOperatorCA(t *testing.T) {
	cf, kf := mtOperatorCA(t, t.TempDir())
	useCA := func(c *Config) { c.TLSCA, c.TLSCAKey = cf, kf }
	a := mtStart(t, "node-a", useCA)
	b := mtStart(t, "node-b", func(c *Config) { useCA(c); mtJoin(a)(c) })
	mtWaitMembers(t, 2, a, b)
	if a.CA().Cert.Subject.CommonName != "operator CA" {
		t.Fatalf("CA %q", a.CA().Cert.Subject.CommonName)
	}
	// Key rotation runs over QUIC, so it proves the operator CA works.
	if err := a.InstallKey(mtCtx(t), DeriveGossipKey("rotated-secret-0123456789")); err != nil {
		t.Fatal(err)
	}
	if n := len(b.ListKeys()); n != 2 {
		t.Fatalf("b has %d keys, want 2", n)
	}
	// A node with the same secret but the derived CA is refused.
	d := mtStart(t, "node-d", nil)
	if _, err := mtRoundTrip(mtCtx(t), d.Transport(), a.Self().QUICAddr, KeysALPN, "x"); err == nil {
		t.Fatal("derived-CA node reached an operator-CA node")
	}
	t.Run("load errors", func(t *testing.T) {
		if _, err := transport.LoadCA(cf, cf); err == nil {
			t.Fatal("certificate accepted as key")
		}
		_, kf2 := mtOperatorCA(t, t.TempDir())
		if _, err := transport.LoadCA(cf, kf2); err == nil {
			t.Fatal("mismatched key accepted")
		}
	})
}

func TestGossipLogDecryptWarning(t *testing.T) {
	lb := &mtLogBuf{}
	g := newGossipLog(lb.logger())
	g.Write([]byte("[ERR] memberlist: Failed to read remote state: no installed keys could decrypt the message from=10.1.2.3:7946\n"))
	g.Write([]byte("[ERR] memberlist: Decrypt packet failed: x from=10.1.2.3:7946\n"))
	g.Write([]byte("[DEBUG] memberlist: Stream connection from=10.1.2.3:7946\n"))
	out := lb.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "gossip: message from 10.1.2.3:7946 could not be decrypted (wrong cluster secret?)") {
		t.Fatalf("log:\n%s", out)
	}
	if !strings.Contains(out, "level=DEBUG msg=\"memberlist: Stream connection") {
		t.Fatalf("debug line not routed:\n%s", out)
	}
}
