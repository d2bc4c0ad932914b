package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/classmesh/classmesh/internal/ident"
)

// Result is the outcome of an applied write.
type Result struct {
	// Revision is the record's new revision (for a delete, the revision
	// the delete took). Revisions are catalog-wide, distinct and
	// increasing in log order; they are not raft indexes (several writes
	// can share one log entry), so wait for Index, not Revision.
	Revision uint64
	// Index is the raft index of the log entry that carried the write:
	// WaitApplied(ctx, Index) on any replica makes it readable there.
	Index uint64
	// Record is the stored record (nil for a delete).
	Record json.RawMessage
	// Secret is the stream key of a created session or the token of a
	// created API token. It is not stored anywhere and is returned only here.
	Secret string
}

// Apply proposes cmd on the leader and waits for it to be applied. The
// command is checked before it enters the log, so a malformed command never
// reaches the FSM; catalog errors (*Error) come back from the FSM. On a
// follower it returns ErrNotLeader (the API layer forwards to the leader).
//
// Concurrent calls share log entries (see batcher): each still gets its own
// result and error. When ctx ends before the command was proposed it is
// withdrawn; after that its outcome is unknown to the caller.
func (s *Store) Apply(ctx context.Context, cmd Command) (*Result, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	cmd.At = s.cfg.Now().UTC()
	secret, err := s.prepare(&cmd)
	if err != nil {
		return nil, err
	}
	b, err := EncodeCommand(&cmd)
	if err != nil {
		return nil, err
	}
	p, err := s.batcher.submit(b)
	if err != nil {
		return nil, err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		s.batcher.withdraw(p)
		return nil, fmt.Errorf("control: %w", ctx.Err())
	}
	if p.err != nil {
		return nil, p.err
	}
	if p.res.Err != nil {
		return nil, p.res.Err
	}
	return &Result{Revision: p.res.Revision, Index: p.res.Index, Record: p.res.Record, Secret: secret}, nil
}

// prepare checks the command and, for a created session or token, generates
// the secret and puts only its hash into the payload.
func (s *Store) prepare(cmd *Command) (string, error) {
	if err := cmd.check(); err != nil {
		return "", err
	}
	if cmd.Op == OpCreate {
		if err := ident.Check(cmd.ID); err != nil {
			return "", invalid("id", "%v", err)
		}
	}
	if cmd.Op != OpCreate && cmd.Op != OpUpdate {
		return "", nil
	}
	rec, err := cmd.decodePayload()
	if err != nil {
		return "", err
	}
	var secret string
	switch r := rec.(type) {
	case *LiveSession:
		if cmd.Op == OpCreate {
			secret, r.StreamKeyHash = newSecret("sk_")
		} else if r.StreamKeyHash == "" {
			r.StreamKeyHash = placeholderHash // the FSM keeps the stored hash
		}
	case *APIToken:
		if cmd.Op == OpCreate {
			secret, r.Hash = newSecret("cmt_")
		} else if r.Hash == "" {
			r.Hash = placeholderHash
		}
	}
	if err := rec.validate(); err != nil {
		return "", err
	}
	if err := checkTextFields(rec); err != nil {
		s.CountRefusal("control_character")
		s.cfg.Logger.Info("control: write refused", "kind", cmd.Kind, "id", cmd.ID, "err", err)
		return "", err
	}
	if secret != "" {
		if cmd.Payload, err = json.Marshal(rec); err != nil {
			return "", fmt.Errorf("control: encode payload: %w", err)
		}
	}
	return secret, nil
}

var placeholderHash = strings.Repeat("0", 64)

// newSecret returns a random secret with the given prefix and its SHA-256.
func newSecret(prefix string) (secret, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	secret = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret)
}

// HashSecret returns the lowercase hex SHA-256 of a stream key or token, the
// form stored in the catalog.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create creates a record of kind k with id from v (a record struct or JSON).
func (s *Store) Create(ctx context.Context, k Kind, id string, v any) (*Result, error) {
	p, err := payload(v)
	if err != nil {
		return nil, err
	}
	return s.Apply(ctx, Command{Op: OpCreate, Kind: k, ID: id, Payload: p})
}

// Update replaces a record; ifMatch, when non-zero, must be its revision.
func (s *Store) Update(ctx context.Context, k Kind, id string, ifMatch uint64, v any) (*Result, error) {
	p, err := payload(v)
	if err != nil {
		return nil, err
	}
	return s.Apply(ctx, Command{Op: OpUpdate, Kind: k, ID: id, IfMatch: ifMatch, Payload: p})
}

// Delete deletes a record; ifMatch, when non-zero, must be its revision.
func (s *Store) Delete(ctx context.Context, k Kind, id string, ifMatch uint64) (*Result, error) {
	return s.Apply(ctx, Command{Op: OpDelete, Kind: k, ID: id, IfMatch: ifMatch})
}

// Rollback restores revision rev from the record's history as a new revision.
func (s *Store) Rollback(ctx context.Context, k Kind, id string, rev, ifMatch uint64) (*Result, error) {
	return s.Apply(ctx, Command{Op: OpRollback, Kind: k, ID: id, ToRevision: rev, IfMatch: ifMatch})
}

func payload(v any) (json.RawMessage, error) {
	switch p := v.(type) {
	case json.RawMessage:
		return p, nil
	case []byte:
		return p, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, invalid("payload", "encode: %v", err)
	}
	return b, nil
}
