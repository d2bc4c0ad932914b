package control

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketMeta    = []byte("meta")
	bucketHistory = []byte("history")
	keyApplied    = []byte("applied_index")
)

// applyResult is what the FSM returns for each command entry.
type applyResult struct {
	Revision uint64
	Record   json.RawMessage
	Err      *Error
}

// fsm is the catalog state machine on its own bbolt file. Apply is
// deterministic: everything it writes derives from the log entry and its index.
type fsm struct {
	mu      sync.RWMutex // guards db against Restore swapping it
	db      *bolt.DB
	path    string
	history int
	logger  *slog.Logger
	onApply func(index uint64)
	applied atomic.Uint64 // last applied index, mirrors the meta bucket
}

func openFSM(path string, history int, logger *slog.Logger) (*fsm, error) {
	f := &fsm{path: path, history: history, logger: logger}
	if err := f.open(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fsm) open() error {
	db, err := bolt.Open(f.path, 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		return fmt.Errorf("control: open catalog: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range append([][]byte{bucketMeta, bucketHistory}, kindBuckets()...) {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("control: init catalog: %w", err)
	}
	f.db = db
	return db.View(func(tx *bolt.Tx) error {
		f.applied.Store(readApplied(tx))
		return nil
	})
}

func kindBuckets() [][]byte {
	out := make([][]byte, len(kinds))
	for i, k := range kinds {
		out[i] = []byte(k)
	}
	return out
}

func (f *fsm) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.db == nil {
		return nil
	}
	err := f.db.Close()
	f.db = nil
	return err
}

// view runs fn in a read transaction on the current database.
func (f *fsm) view(fn func(tx *bolt.Tx) error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.db == nil {
		return ErrClosed
	}
	return f.db.View(fn)
}

// appliedIndex returns the index of the last entry reflected in catalog.db.
func (f *fsm) appliedIndex() uint64 { return f.applied.Load() }

func readApplied(tx *bolt.Tx) uint64 {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return 0
	}
	if v := b.Get(keyApplied); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// Apply implements raft.FSM.
func (f *fsm) Apply(l *raft.Log) interface{} {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch implements raft.BatchingFSM: one bbolt transaction per batch.
// Entries at or below the stored applied index were already applied before a
// restart (raft replays from its last snapshot) and are skipped. A storage
// failure panics: the replica could no longer follow the log.
func (f *fsm) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	f.mu.RLock()
	defer f.mu.RUnlock()
	var last uint64
	err := f.db.Update(func(tx *bolt.Tx) error {
		applied := readApplied(tx)
		for i, l := range logs {
			if l.Index <= applied {
				out[i] = &applyResult{Err: conflict("entry %d already applied", l.Index)}
				continue
			}
			if l.Type == raft.LogCommand {
				res, err := f.applyOne(tx, l.Index, l.Data)
				if err != nil {
					return err
				}
				out[i] = res
			}
			last = l.Index
		}
		if last == 0 {
			return nil
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], last)
		return tx.Bucket(bucketMeta).Put(keyApplied, v[:])
	})
	if err != nil {
		panic(fmt.Sprintf("control: apply to catalog failed: %v", err))
	}
	if last != 0 {
		f.applied.Store(last)
		if f.onApply != nil {
			f.onApply(last)
		}
	}
	return out
}

// applyOne applies one command. Catalog errors become the result; a returned
// error is a storage failure.
func (f *fsm) applyOne(tx *bolt.Tx, idx uint64, data []byte) (*applyResult, error) {
	cmd, err := DecodeCommand(data)
	if err != nil {
		return &applyResult{Err: asError(err)}, nil
	}
	w := &writer{tx: tx, idx: idx, cmd: cmd, history: f.history}
	rec, cerr := w.run()
	if cerr != nil {
		if se, ok := cerr.(storageError); ok {
			return nil, se.err
		}
		return &applyResult{Err: asError(cerr)}, nil
	}
	res := &applyResult{Revision: idx}
	if rec != nil {
		res.Record, _ = json.Marshal(rec)
	}
	return res, nil
}

func asError(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Code: CodeInvalid, Message: err.Error()}
}

// storageError marks a bbolt failure inside a command.
type storageError struct{ err error }

func (s storageError) Error() string { return s.err.Error() }

// historyKey is kind/id/revision (8 bytes big-endian); ids contain no '/'.
func historyPrefix(k Kind, id string) []byte {
	return []byte(string(k) + "/" + id + "/")
}

func historyKey(k Kind, id string, rev uint64) []byte {
	p := historyPrefix(k, id)
	return binary.BigEndian.AppendUint64(p, rev)
}
