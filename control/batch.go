package control

import (
	"encoding/binary"
)

// BatchVersion is the first byte of a log entry that carries several
// commands (a batch). An entry starting with CommandVersion carries one.
//
// A batch entry is
//
//	0x02 | count (uvarint) | count × (length (uvarint) | encoded command)
//
// where every encoded command is a whole single-command entry
// (EncodeCommand, starting with CommandVersion). The commands are applied
// in order, each with its own result and revision.
const BatchVersion byte = 2

// Hard limits of the batch decoder, independent of the configuration, so a
// hostile entry cannot make it allocate more than a bounded amount.
const (
	// MaxBatchCommands bounds the commands of one batch entry.
	MaxBatchCommands = 4096
	// MaxEntrySize bounds a batch entry.
	MaxEntrySize = 4 << 20
)

// batchOverhead is the most a command adds to a batch besides its bytes
// (its length as a uvarint).
const batchOverhead = binary.MaxVarintLen32

// encodeBatch returns the batch entry of the encoded commands cmds. It
// fails when the entry breaks the decoder's limits.
func encodeBatch(cmds [][]byte) ([]byte, error) {
	if len(cmds) == 0 || len(cmds) > MaxBatchCommands {
		return nil, invalid("", "batch of %d commands, limit %d", len(cmds), MaxBatchCommands)
	}
	n := 1 + binary.MaxVarintLen64
	for _, c := range cmds {
		n += batchOverhead + len(c)
	}
	b := make([]byte, 0, n)
	b = append(b, BatchVersion)
	b = binary.AppendUvarint(b, uint64(len(cmds)))
	for _, c := range cmds {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	if len(b) > MaxEntrySize {
		return nil, invalid("", "batch entry of %d bytes, limit %d", len(b), MaxEntrySize)
	}
	return b, nil
}

// decodeBatch splits a batch entry into its encoded commands (sub-slices
// of b; each is decoded later on its own, so that a bad command fails
// alone). It rejects wrong versions, counts out of range, empty, oversized
// or truncated commands and trailing bytes. It never panics, and allocates
// at most one slice header per two bytes of input.
func decodeBatch(b []byte) ([][]byte, error) {
	if len(b) == 0 || b[0] != BatchVersion {
		return nil, invalid("", "not a batch entry")
	}
	if len(b) > MaxEntrySize {
		return nil, invalid("", "batch entry of %d bytes, limit %d", len(b), MaxEntrySize)
	}
	rest := b[1:]
	count, n := binary.Uvarint(rest)
	if n <= 0 || count == 0 || count > MaxBatchCommands {
		return nil, invalid("", "bad batch count")
	}
	rest = rest[n:]
	// Every command takes at least two bytes (length and version).
	if count > uint64(len(rest)/2) {
		return nil, invalid("", "batch of %d commands in %d bytes", count, len(rest))
	}
	out := make([][]byte, 0, count)
	for range count {
		l, n := binary.Uvarint(rest)
		if n <= 0 || l == 0 || l > MaxCommandSize || l > uint64(len(rest)-n) {
			return nil, invalid("", "bad command length in batch")
		}
		rest = rest[n:]
		out = append(out, rest[:l:l])
		rest = rest[l:]
	}
	if len(rest) != 0 {
		return nil, invalid("", "%d trailing bytes after batch", len(rest))
	}
	return out, nil
}
