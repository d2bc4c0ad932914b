package control

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketMeta    = []byte("meta")
	bucketHistory = []byte("history")
	keyApplied    = []byte("applied_index")
	// keyRevision holds the catalog revision: the revision given to the
	// last command that changed something (see nextRevision).
	keyRevision = []byte("revision")
)

// applyResult is what the FSM returns for a single-command entry, and for
// each command of a batch entry (in a batchResult).
type applyResult struct {
	Revision uint64
	// Index is the raft index of the entry that carried the command.
	Index  uint64
	Record json.RawMessage
	Err    *Error
	kind   Kind // the kind written ("" when nothing was)
}

// batchResult is what the FSM returns for a batch entry: one result per
// command, in order.
type batchResult struct {
	results []*applyResult
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
	// appliedMu guards appliedCh, which is closed (and replaced) whenever
	// applied moves, to wake WaitApplied without polling.
	appliedMu sync.Mutex
	appliedCh chan struct{}
	// gens counts, per kind, the committed batches that wrote records of
	// that kind (and restores, which change every kind), so that readers
	// can cache a table until it changes. The map itself is never written
	// after openFSM.
	gens map[Kind]*atomic.Uint64
}

func openFSM(path string, history int, logger *slog.Logger) (*fsm, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &fsm{path: path, history: history, logger: logger, gens: map[Kind]*atomic.Uint64{}, appliedCh: make(chan struct{})}
	for _, k := range kinds {
		f.gens[k] = new(atomic.Uint64)
	}
	if err := f.discardUnclean(); err != nil {
		return nil, err
	}
	if err := f.open(); err != nil {
		return nil, err
	}
	return f, nil
}

// The catalog file is written without fsync (NoSync): the raft log is the
// durable record, as etcd's WAL is for its backend, and leaving the fsync
// out takes one disk flush off every acknowledged write. The file is only
// trusted after a clean Close, which syncs it and leaves a marker beside
// it; after a crash (no marker) it is discarded at open and raft rebuilds
// it from the latest snapshot and the log that follows it.
func (f *fsm) cleanMarker() string { return f.path + ".clean" }

// discardUnclean removes a catalog file that was not closed cleanly.
func (f *fsm) discardUnclean() error {
	_, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, merr := os.Stat(f.cleanMarker()); merr == nil {
		return os.Remove(f.cleanMarker()) // it holds again only after the next clean close
	}
	f.logger.Warn("control: catalog was not closed cleanly; rebuilding it from the raft snapshot and log", "path", f.path)
	if err := os.Remove(f.path); err != nil {
		return fmt.Errorf("control: discard unclean catalog: %w", err)
	}
	return nil
}

func (f *fsm) open() error {
	db, err := bolt.Open(f.path, 0o600, &bolt.Options{NoFreelistSync: true, NoSync: true})
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
		f.setApplied(readApplied(tx))
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
	err := f.db.Sync()
	if cerr := f.db.Close(); err == nil {
		err = cerr
	}
	f.db = nil
	if err != nil {
		return fmt.Errorf("control: close catalog: %w", err)
	}
	if err := os.WriteFile(f.cleanMarker(), nil, 0o600); err != nil {
		return fmt.Errorf("control: close catalog: %w", err)
	}
	return syncDir(filepath.Dir(f.path))
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

// generation returns how many times records of kind k changed; it moves
// only once the change is readable.
func (f *fsm) generation(k Kind) uint64 {
	if g := f.gens[k]; g != nil {
		return g.Load()
	}
	return 0
}

// appliedIndex returns the index of the last entry reflected in catalog.db.
func (f *fsm) appliedIndex() uint64 { return f.applied.Load() }

// setApplied publishes a new applied index and wakes its waiters.
func (f *fsm) setApplied(idx uint64) {
	f.applied.Store(idx)
	f.appliedMu.Lock()
	close(f.appliedCh)
	f.appliedCh = make(chan struct{})
	f.appliedMu.Unlock()
}

// appliedChanged returns a channel closed at the next setApplied.
func (f *fsm) appliedChanged() <-chan struct{} {
	f.appliedMu.Lock()
	defer f.appliedMu.Unlock()
	return f.appliedCh
}

// waitApplied blocks until the applied index reaches idx or ctx ends.
func (f *fsm) waitApplied(ctx context.Context, idx uint64) error {
	for {
		ch := f.appliedChanged()
		if f.appliedIndex() >= idx {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("control: wait: %w", ctx.Err())
		}
	}
}

func readApplied(tx *bolt.Tx) uint64 { return readUint(tx, keyApplied) }

// readUint reads an 8-byte big-endian value of the meta bucket (0 when
// absent).
func readUint(tx *bolt.Tx, key []byte) uint64 {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return 0
	}
	if v := b.Get(key); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func putUint(tx *bolt.Tx, key []byte, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return tx.Bucket(bucketMeta).Put(key, b[:])
}

// revisionCounter hands out catalog revisions inside one transaction. A
// command that changes the catalog gets max(last revision + 1, index of
// its entry): distinct and increasing within a batch entry, never below
// the raft index (so a catalog written before batching existed, whose
// revisions were raft indexes, needs no migration, and a log of
// single-command entries gives every replica the same revisions whichever
// version wrote the counter). The counter lives in the meta bucket, so it
// is part of every snapshot.
type revisionCounter struct {
	cur     uint64
	changed bool
}

// next is the revision the next changing command at index idx gets.
func (r *revisionCounter) next(idx uint64) uint64 { return max(r.cur+1, idx) }

// take records that revision v was given out.
func (r *revisionCounter) take(v uint64) { r.cur, r.changed = v, true }

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
		rev := revisionCounter{cur: readUint(tx, keyRevision)}
		for i, l := range logs {
			if l.Index <= applied {
				out[i] = &applyResult{Err: conflict("entry %d already applied", l.Index)}
				continue
			}
			if l.Type == raft.LogCommand {
				res, err := f.applyEntry(tx, l.Index, l.Data, &rev)
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
		if rev.changed {
			if err := putUint(tx, keyRevision, rev.cur); err != nil {
				return err
			}
		}
		return putUint(tx, keyApplied, last)
	})
	if err != nil {
		panic(fmt.Sprintf("control: apply to catalog failed: %v", err))
	}
	f.bumpGenerations(out)
	if last != 0 {
		f.setApplied(last)
		if f.onApply != nil {
			f.onApply(last)
		}
	}
	return out
}

// bumpGenerations counts the kinds written by a committed raft batch.
// Writes are visible to readers only once it is committed: bump the
// generations after, never before.
func (f *fsm) bumpGenerations(out []interface{}) {
	bumped := map[Kind]bool{}
	bump := func(res *applyResult) {
		if res != nil && res.kind != "" && !bumped[res.kind] {
			bumped[res.kind] = true
			f.gens[res.kind].Add(1)
		}
	}
	for _, r := range out {
		switch res := r.(type) {
		case *applyResult:
			bump(res)
		case *batchResult:
			for _, c := range res.results {
				bump(c)
			}
		}
	}
}

// applyEntry applies a command entry: one command, or a batch of them
// (*batchResult). A batch entry that cannot be split fails as a whole.
func (f *fsm) applyEntry(tx *bolt.Tx, idx uint64, data []byte, rev *revisionCounter) (interface{}, error) {
	if len(data) == 0 || data[0] != BatchVersion {
		return f.applyOne(tx, idx, data, rev)
	}
	cmds, err := decodeBatch(data)
	if err != nil {
		return &applyResult{Index: idx, Err: asError(err)}, nil
	}
	out := &batchResult{results: make([]*applyResult, len(cmds))}
	for i, c := range cmds {
		if out.results[i], err = f.applyOne(tx, idx, c, rev); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// applyOne applies one command. Catalog errors become the result; a returned
// error is a storage failure.
func (f *fsm) applyOne(tx *bolt.Tx, idx uint64, data []byte, rev *revisionCounter) (*applyResult, error) {
	cmd, err := DecodeCommand(data)
	if err != nil {
		return &applyResult{Index: idx, Err: asError(err)}, nil
	}
	next := rev.next(idx)
	w := &writer{tx: tx, rev: next, cmd: cmd, history: f.history}
	rec, cerr := w.run()
	if cerr != nil {
		if se, ok := cerr.(storageError); ok {
			return nil, se.err
		}
		return &applyResult{Index: idx, Err: asError(cerr)}, nil
	}
	rev.take(next)
	res := &applyResult{Revision: next, Index: idx, kind: cmd.Kind}
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
