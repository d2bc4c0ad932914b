package transport

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDeriveCADeterministic(t *testing.T) {
	a, b, other := mtCA(t, mtSecret), mtCA(t, mtSecret), mtCA(t, "different-secret-0123456789")
	if !bytes.Equal(a.Cert.Raw, b.Cert.Raw) {
		t.Fatal("same secret gave different CA certificates")
	}
	if bytes.Equal(a.Cert.Raw, other.Cert.Raw) {
		t.Fatal("different secrets gave the same CA")
	}
	if !strings.HasPrefix(a.Cert.Subject.CommonName, "classmesh cluster CA ") || a.Cert.SerialNumber.Int64() != 1 {
		t.Fatalf("subject %q serial %v", a.Cert.Subject.CommonName, a.Cert.SerialNumber)
	}
}

func TestVerifyPeer(t *testing.T) {
	ca, other := mtCA(t, mtSecret), mtCA(t, "different-secret-0123456789")
	now := time.Now()
	leaf, err := ca.Issue("node-1", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := other.Issue("node-1", now, time.Hour)
	expired, _ := ca.Issue("node-1", now.Add(-48*time.Hour), time.Hour)
	for _, tc := range []struct {
		name  string
		raw   [][]byte
		usage x509.ExtKeyUsage
		want  string
		ok    bool
	}{
		{"server", leaf.Certificate, x509.ExtKeyUsageServerAuth, "", true},
		{"client with id", leaf.Certificate, x509.ExtKeyUsageClientAuth, "node-1", true},
		{"wrong id", leaf.Certificate, x509.ExtKeyUsageServerAuth, "node-2", false},
		{"other CA", foreign.Certificate, x509.ExtKeyUsageServerAuth, "", false},
		{"expired", expired.Certificate, x509.ExtKeyUsageServerAuth, "", false},
		{"none", nil, x509.ExtKeyUsageServerAuth, "", false},
		{"garbage", [][]byte{[]byte("junk")}, x509.ExtKeyUsageServerAuth, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := ca.VerifyPeer(tc.raw, tc.usage, tc.want)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrUntrustedPeer) {
				t.Fatalf("error %v does not wrap ErrUntrustedPeer", err)
			}
			if tc.ok && id != "node-1" {
				t.Fatalf("id %q", id)
			}
		})
	}
}

func BenchmarkOpenStream(b *testing.B) {
	ca, err := DeriveCA(mtSecret)
	if err != nil {
		b.Fatal(err)
	}
	srv, _ := New(Config{NodeID: "srv", CA: ca})
	srv.Handle("echo/1", mtEcho(""))
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cli, _ := New(Config{NodeID: "cli", CA: ca})
	if err := cli.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	ctx := b.Context()
	for b.Loop() {
		if _, err := mtRoundTrip(ctx, cli, srv.Addr().String(), "echo/1", "x"); err != nil {
			b.Fatal(err)
		}
	}
}
