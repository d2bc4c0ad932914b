package control

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// CommandVersion is the first byte of every encoded command.
const CommandVersion byte = 1

// MaxCommandSize bounds an encoded command (and so a record).
const MaxCommandSize = 1 << 20

// Op is a command operation.
type Op string

// Operations.
const (
	OpCreate   Op = "create"
	OpUpdate   Op = "update"
	OpDelete   Op = "delete"
	OpRollback Op = "rollback"
)

func (o Op) valid() bool {
	return o == OpCreate || o == OpUpdate || o == OpDelete || o == OpRollback
}

// Command is one catalog change. It is encoded as a version byte followed by
// a compact JSON envelope; Payload is the record JSON for create and update.
type Command struct {
	Op   Op     `json:"op"`
	Kind Kind   `json:"k"`
	ID   string `json:"id"`
	// IfMatch, when non-zero, must equal the record's current revision.
	IfMatch uint64 `json:"im,omitempty"`
	// ToRevision is the history revision a rollback restores.
	ToRevision uint64 `json:"to,omitempty"`
	// At is stamped by the proposing leader and becomes updated_at.
	At time.Time `json:"at"`
	// Payload is the record for create and update.
	Payload json.RawMessage `json:"p,omitempty"`
}

// EncodeCommand returns the log entry bytes for c.
func EncodeCommand(c *Command) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(CommandVersion)
	if err := json.NewEncoder(&buf).Encode(c); err != nil {
		return nil, fmt.Errorf("control: encode command: %w", err)
	}
	if buf.Len() > MaxCommandSize {
		return nil, invalid("payload", "command is %d bytes, limit %d", buf.Len(), MaxCommandSize)
	}
	return buf.Bytes(), nil
}

// DecodeCommand parses and checks a log entry. It rejects unknown versions,
// unknown fields, trailing data, bad ops, kinds and ids, and payloads that are
// missing or present where they do not belong. It never panics.
func DecodeCommand(b []byte) (*Command, error) {
	if len(b) == 0 {
		return nil, invalid("", "empty command")
	}
	if len(b) > MaxCommandSize {
		return nil, invalid("", "command is %d bytes, limit %d", len(b), MaxCommandSize)
	}
	if b[0] != CommandVersion {
		return nil, invalid("", "unknown command version %d", b[0])
	}
	dec := json.NewDecoder(bytes.NewReader(b[1:]))
	dec.DisallowUnknownFields()
	var c Command
	if err := dec.Decode(&c); err != nil {
		return nil, invalid("", "decode command: %v", err)
	}
	if dec.More() {
		return nil, invalid("", "trailing data after command")
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// check validates the envelope (not the payload's fields).
func (c *Command) check() error {
	if !c.Op.valid() {
		return invalid("op", "unknown op %q", c.Op)
	}
	if !c.Kind.valid() {
		return invalid("kind", "unknown kind %q", c.Kind)
	}
	if err := checkID("id", c.ID); err != nil {
		return err
	}
	hasPayload := len(c.Payload) > 0 && string(c.Payload) != "null"
	switch c.Op {
	case OpCreate, OpUpdate:
		if !hasPayload {
			return invalid("payload", "%s needs a payload", c.Op)
		}
	default:
		if hasPayload {
			return invalid("payload", "%s takes no payload", c.Op)
		}
	}
	if c.Op == OpRollback && c.ToRevision == 0 {
		return invalid("to_revision", "rollback needs a revision")
	}
	if c.Op != OpRollback && c.ToRevision != 0 {
		return invalid("to_revision", "only rollback takes a revision")
	}
	return nil
}

// decodePayload decodes the payload into a fresh record of the command's kind,
// rejecting unknown fields; the record's id is set from the command.
func (c *Command) decodePayload() (record, error) {
	r := newRecord(c.Kind)
	dec := json.NewDecoder(bytes.NewReader(c.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return nil, invalid("payload", "decode %s: %v", c.Kind, err)
	}
	if dec.More() {
		return nil, invalid("payload", "trailing data after %s", c.Kind)
	}
	if k := r.key(); k != "" && k != c.ID {
		return nil, invalid("id", "payload id %q differs from %q", k, c.ID)
	}
	r.setKey(c.ID)
	return r, nil
}
