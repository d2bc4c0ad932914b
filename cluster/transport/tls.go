package transport

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sync"
	"time"

	"github.com/classmesh/classmesh/internal/ident"
)

// ErrUntrustedPeer is wrapped when a peer's certificate does not chain to
// the cluster CA or does not name the expected node. The more precise
// sentinels below, or an x509 error, are wrapped alongside it.
var ErrUntrustedPeer = errors.New("cluster: untrusted peer certificate")

// Reasons a peer certificate is refused, wrapped together with
// ErrUntrustedPeer.
var (
	// ErrNoPeerCertificate: the peer presented no certificate.
	ErrNoPeerCertificate = errors.New("no certificate")
	// ErrPeerNameMismatch: the certificate is the cluster's but names
	// another node than the one expected.
	ErrPeerNameMismatch = errors.New("node ID mismatch")
)

// refusalReason is the metric label for a certificate refusal.
func refusalReason(err error) string {
	var ua x509.UnknownAuthorityError
	switch {
	case errors.Is(err, ErrNoPeerCertificate):
		return "no_certificate"
	case errors.Is(err, ErrPeerNameMismatch):
		return "name_mismatch"
	case errors.As(err, &ua):
		return "unknown_authority"
	}
	return "bad_certificate"
}

// Leaf certificate lifetime; a leaf is re-issued when less than a third of
// its lifetime is left.
const leafLifetime = 7 * 24 * time.Hour

// Fixed CA validity so every node derives a byte-identical certificate.
var (
	caNotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	caNotAfter  = time.Date(2120, 1, 1, 0, 0, 0, 0, time.UTC)
)

// CA is the certificate authority every node's leaf is signed by.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	Pool *x509.CertPool
}

// DeriveCA builds the deterministic cluster CA from the secret: an Ed25519
// key from HKDF(secret, info "ca v1"), serial 1, validity 2020..2120 and
// subject "classmesh cluster CA <fingerprint>". Every node holding the
// secret computes the same certificate bytes.
func DeriveCA(secret string) (*CA, error) {
	key := ed25519.NewKeyFromSeed(DeriveKey(secret, InfoCA, ed25519.SeedSize))
	pub := key.Public().(ed25519.PublicKey)
	fp := sha256.Sum256(pub)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "classmesh cluster CA " + hex.EncodeToString(fp[:8])},
		NotBefore:             caNotBefore,
		NotAfter:              caNotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          fp[:20],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return nil, fmt.Errorf("cluster: derive CA: %w", err)
	}
	return newCA(der, key)
}

// LoadCA reads an operator CA certificate and its private key from PEM
// files. The key may be PKCS#8, SEC 1 (EC) or PKCS#1 (RSA).
func LoadCA(certFile, keyFile string) (*CA, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("cluster: read CA: %w", err)
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("cluster: read CA key: %w", err)
	}
	cblk, _ := pem.Decode(cb)
	if cblk == nil || cblk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("cluster: %s: no PEM certificate", certFile)
	}
	kblk, _ := pem.Decode(kb)
	if kblk == nil {
		return nil, fmt.Errorf("cluster: %s: no PEM key", keyFile)
	}
	key, err := parseSigner(kblk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("cluster: %s: %w", keyFile, err)
	}
	return newCA(cblk.Bytes, key)
}

// parseSigner parses a private key in any of the usual DER encodings.
func parseSigner(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, errors.New("unsupported key type")
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("unparseable private key")
}

// newCA checks that key matches the certificate and builds the pool.
func newCA(der []byte, key crypto.Signer) (*CA, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cluster: parse CA: %w", err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("cluster: CA %q is not a CA certificate", cert.Subject.CommonName)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("cluster: CA key does not match certificate %q", cert.Subject.CommonName)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, Key: key, Pool: pool}, nil
}

// publicKeysEqual compares two public keys of the supported types.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch k := a.(type) {
	case ed25519.PublicKey, *ecdsa.PublicKey, *rsa.PublicKey:
		return k.(equaler).Equal(b)
	}
	return false
}

// Fingerprint is a short hex SHA-256 of the CA certificate, for logs.
func (ca *CA) Fingerprint() string {
	s := sha256.Sum256(ca.Cert.Raw)
	return hex.EncodeToString(s[:8])
}

// Issue signs a fresh leaf for nodeID: a new Ed25519 key, CN = nodeID,
// usable as TLS server and client, valid from now-1h for lifetime.
func (ca *CA) Issue(nodeID string, now time.Time, lifetime time.Duration) (*tls.Certificate, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cluster: leaf key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("cluster: leaf serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: nodeID},
		DNSNames:     []string{nodeID},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(lifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("cluster: sign leaf: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cluster: parse leaf: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf}, nil
}

// VerifyPeer checks a peer's raw certificate chain against the CA for the
// given usage and returns the node ID it names. want, when not "", is the
// node ID the peer must have.
func (ca *CA) VerifyPeer(rawCerts [][]byte, usage x509.ExtKeyUsage, want string) (string, error) {
	if len(rawCerts) == 0 {
		return "", fmt.Errorf("%w: %w", ErrUntrustedPeer, ErrNoPeerCertificate)
	}
	certs := make([]*x509.Certificate, 0, len(rawCerts))
	for _, raw := range rawCerts {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUntrustedPeer, err)
		}
		certs = append(certs, c)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: ca.Pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}
	if _, err := certs[0].Verify(opts); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUntrustedPeer, err)
	}
	id := certs[0].Subject.CommonName
	if !ident.ValidNode(id) {
		return "", fmt.Errorf("%w: bad node ID %q", ErrUntrustedPeer, id)
	}
	if want != "" && id != want {
		return "", fmt.Errorf("%w: %w: %q, want %q", ErrUntrustedPeer, ErrPeerNameMismatch, id, want)
	}
	return id, nil
}

// leafSource hands out this node's leaf and re-issues it before expiry.
type leafSource struct {
	ca     *CA
	nodeID string
	mu     sync.Mutex
	cur    *tls.Certificate
}

// get returns a leaf with at least a third of its lifetime left.
func (l *leafSource) get() (*tls.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.cur != nil && l.cur.Leaf.NotAfter.Sub(now) > leafLifetime/3 {
		return l.cur, nil
	}
	c, err := l.ca.Issue(l.nodeID, now, leafLifetime)
	if err != nil {
		return nil, err
	}
	l.cur = c
	return c, nil
}
