package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/quic-go/quic-go"
)

// ErrKeyRollout is wrapped by a *KeyError when some members did not apply
// a key change.
var ErrKeyRollout = errors.New("cluster: key change did not reach every member")

// keysTimeout bounds one keys exchange with a member.
const keysTimeout = 10 * time.Second

// KeyError lists the members that failed a key change.
type KeyError struct {
	Op     KeyOp
	Failed map[string]error // node ID -> reason
}

func (e *KeyError) Error() string {
	ids := make([]string, 0, len(e.Failed))
	for id := range e.Failed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id + ": " + e.Failed[id].Error()
	}
	return fmt.Sprintf("cluster: key %s failed on %d member(s): %s", e.Op, len(ids), strings.Join(parts, "; "))
}

func (e *KeyError) Unwrap() error { return ErrKeyRollout }

// InstallKey adds key to the keyring of this node and every live member.
// Gossip keeps using the primary key; installed keys decrypt.
func (c *Cluster) InstallKey(ctx context.Context, key []byte) error {
	return c.rollout(ctx, KeyInstall, key)
}

// UseKey makes key, already installed everywhere, the primary key of this
// node and every live member.
func (c *Cluster) UseKey(ctx context.Context, key []byte) error {
	return c.rollout(ctx, KeyUse, key)
}

// RemoveKey removes key, no longer primary anywhere, from this node and
// every live member.
func (c *Cluster) RemoveKey(ctx context.Context, key []byte) error {
	return c.rollout(ctx, KeyRemove, key)
}

// KeyFingerprint names a gossip key without revealing it: the first 8
// bytes of its SHA-256, in hex. This is the only form of a key that
// leaves the node (API, CLI, logs).
func KeyFingerprint(key []byte) string {
	s := sha256.Sum256(key)
	return hex.EncodeToString(s[:8])
}

// ListKeys returns this node's gossip keys, primary first. The bytes are
// secret: show them only as KeyFingerprint.
func (c *Cluster) ListKeys() [][]byte {
	primary := c.keyring.GetPrimaryKey()
	out := [][]byte{primary}
	for _, k := range c.keyring.GetKeys() {
		if string(k) != string(primary) {
			out = append(out, k)
		}
	}
	return out
}

// rollout applies op locally, then on every other live member in turn.
func (c *Cluster) rollout(ctx context.Context, op KeyOp, key []byte) error {
	if !validKeyLen(len(key)) {
		return fmt.Errorf("cluster: key of %d bytes: want 16, 24 or 32", len(key))
	}
	if err := c.applyKey(op, key); err != nil {
		return err
	}
	failed := map[string]error{}
	for _, m := range c.Members() {
		if m.Self {
			continue
		}
		if err := c.sendKey(ctx, m, op, key); err != nil {
			failed[m.ID] = err
			c.log.Warn("cluster: key "+op.String()+" failed", "node", m.ID, "err", err)
		}
	}
	if len(failed) > 0 {
		return &KeyError{Op: op, Failed: failed}
	}
	return nil
}

// applyKey changes the local keyring and persists it.
func (c *Cluster) applyKey(op KeyOp, key []byte) error {
	var err error
	switch op {
	case KeyInstall:
		err = c.keyring.AddKey(key)
	case KeyUse:
		if !slices.ContainsFunc(c.keyring.GetKeys(), func(k []byte) bool { return string(k) == string(key) }) {
			return fmt.Errorf("cluster: use key: key is not installed")
		}
		err = c.keyring.UseKey(key)
	case KeyRemove:
		err = c.keyring.RemoveKey(key)
	default:
		err = fmt.Errorf("unknown op %d", op)
	}
	if err != nil {
		return fmt.Errorf("cluster: %s key: %w", op, err)
	}
	return storeKeyring(c.cfg.DataDir, c.keyring.GetPrimaryKey(), c.keyring.GetKeys())
}

// sendKey asks member m to apply op over the keys protocol.
func (c *Cluster) sendKey(ctx context.Context, m Member, op KeyOp, key []byte) error {
	if m.QUICAddr == "" {
		return errors.New("no QUIC address in metadata")
	}
	ctx, cancel := context.WithTimeout(ctx, keysTimeout)
	defer cancel()
	s, err := c.transport.OpenStream(ctx, m.QUICAddr, KeysALPN)
	if err != nil {
		return err
	}
	defer s.CancelRead(0)
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	if _, err := s.Write(keysRequest{Op: op, Key: key}.marshal()); err != nil {
		return fmt.Errorf("cluster: keys request: %w", err)
	}
	s.Close()
	resp, err := decodeKeysResponse(s)
	if err != nil {
		return err
	}
	if !resp.OK {
		return fmt.Errorf("cluster: refused: %s", resp.Msg)
	}
	return nil
}

// serveKeys applies one key change requested by an authenticated member.
func (c *Cluster) serveKeys(ctx context.Context, peer transport.PeerInfo, s *quic.Stream) {
	s.SetDeadline(time.Now().Add(keysTimeout))
	req, err := decodeKeysRequest(s)
	resp := keysResponse{OK: true}
	if err == nil {
		err = c.applyKey(req.Op, req.Key)
		c.log.Info("cluster: key "+req.Op.String()+" requested", "by", peer.NodeID, "err", err)
	}
	if err != nil {
		resp = keysResponse{Msg: err.Error()}
	}
	s.Write(resp.marshal())
}
