package control

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// Snapshot implements raft.FSM. It opens a read transaction on the FSM
// goroutine, so the copy is exactly the state at the last applied index;
// Persist streams it while Apply goes on in other transactions.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.db == nil {
		return nil, ErrClosed
	}
	tx, err := f.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("control: snapshot: %w", err)
	}
	return &fsmSnapshot{tx: tx}, nil
}

type fsmSnapshot struct {
	tx *bolt.Tx
}

// Persist writes the whole bbolt file into the sink.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.tx.WriteTo(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("control: persist snapshot: %w", err)
	}
	return sink.Close()
}

// Release ends the read transaction.
func (s *fsmSnapshot) Release() { _ = s.tx.Rollback() }

// Restore implements raft.FSM: the snapshot (a bbolt file) is written to a
// temporary file and fsynced. When it is ahead of the current catalog.db it
// replaces it atomically (rename, directory fsync, reopen); when it is not
// (raft restores the last snapshot at every start, but catalog.db already
// holds everything applied since), it is dropped.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	tmp, err := writeTemp(filepath.Dir(f.path), rc)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // no-op after the rename
	snapIdx, err := fileApplied(tmp)
	if err != nil {
		return err
	}
	if cur := f.appliedIndex(); snapIdx <= cur {
		return nil
	}
	err = f.replace(tmp)
	for _, g := range f.gens { // after the new state is in place
		g.Add(1)
	}
	return err
}

func (f *fsm) replace(tmp string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.db != nil {
		if err := f.db.Close(); err != nil {
			return fmt.Errorf("control: restore: close catalog: %w", err)
		}
		f.db = nil
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("control: restore: %w", err)
	}
	if err := syncDir(filepath.Dir(f.path)); err != nil {
		return err
	}
	return f.open()
}

func writeTemp(dir string, r io.Reader) (string, error) {
	fh, err := os.CreateTemp(dir, "catalog-restore-*.db")
	if err != nil {
		return "", fmt.Errorf("control: restore: %w", err)
	}
	_, err = io.Copy(fh, r)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(fh.Name())
		return "", fmt.Errorf("control: restore: write: %w", err)
	}
	return fh.Name(), nil
}

// fileApplied reads the applied index stored in a catalog file.
func fileApplied(path string) (uint64, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("control: restore: open snapshot: %w", err)
	}
	defer db.Close()
	var idx uint64
	err = db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("no meta bucket")
		}
		idx = readApplied(tx)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("control: restore: snapshot is not a catalog: %w", err)
	}
	return idx, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("control: sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("control: sync dir: %w", err)
	}
	return nil
}
