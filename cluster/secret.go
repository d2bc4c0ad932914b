package cluster

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/classmesh/classmesh/cluster/transport"
)

// Files kept in Config.DataDir.
const (
	nodeIDFile  = "node-id"
	secretFile  = "cluster-secret"
	keyringFile = "gossip-keys"
)

// minSecretLen is the shortest cluster secret accepted.
const minSecretLen = 16

// HKDF infos of the keys derived here (transport.DeriveKey: salt
// "classmesh", one info per purpose; the CA's is transport.InfoCA).
const (
	infoGossip    = "gossip v1"
	infoQUICReset = "quic stateless reset v1 "
)

// ErrWeakSecret is returned when a cluster secret is too short.
var ErrWeakSecret = errors.New("cluster: cluster secret too short")

// DeriveGossipKey derives the memberlist AES-256 key from the cluster
// secret: HKDF-SHA256(secret, salt "classmesh", info "gossip v1"), 32 bytes.
func DeriveGossipKey(secret string) []byte {
	return transport.DeriveKey(secret, infoGossip, 32)
}

// GenerateSecret returns a new random cluster secret: 32 bytes, base64url.
func GenerateSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cluster: generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loadSecret returns the configured secret, or the one stored in dir, or a
// new one that it stores there with mode 0600.
func loadSecret(configured, dir string) (string, error) {
	if configured != "" {
		if len(configured) < minSecretLen {
			return "", ErrWeakSecret
		}
		return configured, nil
	}
	path := filepath.Join(dir, secretFile)
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < minSecretLen {
			return "", fmt.Errorf("%w: %s", ErrWeakSecret, path)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("cluster: read secret: %w", err)
	}
	s, err := GenerateSecret()
	if err != nil {
		return "", err
	}
	if err := writeFile0600(path, s+"\n"); err != nil {
		return "", fmt.Errorf("cluster: store secret: %w", err)
	}
	return s, nil
}

// loadNodeID returns the configured ID, or the one stored in dir, or a new
// random one that it stores there.
func loadNodeID(configured, dir string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dir, nodeIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if !validNodeID(id) {
			return "", fmt.Errorf("%w: bad node ID %q in %s", ErrInvalidConfig, id, path)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("cluster: read node id: %w", err)
	}
	r := make([]byte, 8)
	if _, err := rand.Read(r); err != nil {
		return "", fmt.Errorf("cluster: generate node id: %w", err)
	}
	id := "node-" + hex.EncodeToString(r)
	if err := writeFile0600(path, id+"\n"); err != nil {
		return "", fmt.Errorf("cluster: store node id: %w", err)
	}
	return id, nil
}

// loadKeyring reads the persisted gossip keyring from dir: one base64url key
// per line, primary first. It returns nil, nil when there is none.
func loadKeyring(dir string) ([][]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, keyringFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: read keyring: %w", err)
	}
	var keys [][]byte
	for _, line := range strings.Fields(string(b)) {
		k, err := base64.RawURLEncoding.DecodeString(line)
		if err != nil || !validKeyLen(len(k)) {
			return nil, fmt.Errorf("cluster: keyring %s: bad key", filepath.Join(dir, keyringFile))
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// storeKeyring persists keys (primary first) in dir with mode 0600.
func storeKeyring(dir string, primary []byte, keys [][]byte) error {
	var sb strings.Builder
	sb.WriteString(base64.RawURLEncoding.EncodeToString(primary) + "\n")
	for _, k := range keys {
		if string(k) != string(primary) {
			sb.WriteString(base64.RawURLEncoding.EncodeToString(k) + "\n")
		}
	}
	if err := writeFile0600(filepath.Join(dir, keyringFile), sb.String()); err != nil {
		return fmt.Errorf("cluster: store keyring: %w", err)
	}
	return nil
}

// validKeyLen reports whether n is an AES key length memberlist accepts.
func validKeyLen(n int) bool { return n == 16 || n == 24 || n == 32 }

// writeFile0600 writes data to path atomically with mode 0600.
func writeFile0600(path, data string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
