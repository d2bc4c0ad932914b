package cache

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// corruptSuffix names the one kept copy of the last index found corrupt,
// for diagnosis; it replaces any older copy.
const corruptSuffix = ".corrupt"

// ErrCorruptIndex means the disk tier's bbolt index failed to open, failed
// its consistency check or panicked while being read. openDisk handles it by
// dropping the tier's contents; it is exported so callers can recognise it
// in logs and wrapped errors.
var ErrCorruptIndex = errors.New("cache: corrupt disk index")

// Invariants of the recovery path:
//   - nothing inside bbolt is allowed to panic out of New: Open, the
//     consistency check and the first scan run under recover;
//   - a corrupt index is never reopened in place (bbolt may have panicked
//     with the file's lock held): it is renamed to index.db.corrupt and a
//     fresh index is created beside it;
//   - body files cannot be re-indexed (their names hash the key, they do not
//     contain it), so every body file goes with the bad index and the
//     tier refills on demand. Losing a cache is cheap; serving a wrong
//     body is not.
//   - errors that say nothing about the index's bytes (permissions, the
//     lock held by another process) are returned, not "repaired".

// openDiskRecovering is openDisk's body: it opens the tier and, when the
// index is corrupt, logs a WARN line, drops the tier's contents and opens an
// empty one. reset reports whether that happened.
func openDiskRecovering(dir string, capacity int64, log *slog.Logger, now func() time.Time) (d *diskTier, evicted int, reset bool, err error) {
	d, evicted, err = openIndexed(dir, capacity, log, now)
	if !errors.Is(err, ErrCorruptIndex) {
		return d, evicted, false, err
	}
	log.Warn("cache: disk index is corrupt; dropping the disk tier's contents, segments will be refilled",
		"dir", dir, "kept", indexFile+corruptSuffix, "err", err)
	if rerr := dropDiskContents(dir); rerr != nil {
		return nil, 0, false, fmt.Errorf("cache: reset disk tier after %w: %w", err, rerr)
	}
	d, evicted, err = openIndexed(dir, capacity, log, now)
	return d, evicted, true, err
}

// openIndexed opens the index, checks it and loads it into a new tier.
func openIndexed(dir string, capacity int64, log *slog.Logger, now func() time.Time) (*diskTier, int, error) {
	db, err := openIndex(filepath.Join(dir, indexFile))
	if err != nil {
		return nil, 0, err
	}
	d := &diskTier{dir: dir, db: db, log: log, now: now, policy: newS3FIFO[*diskObject](capacity)}
	err = checkIndex(db)
	var evicted int
	if err == nil {
		evicted, err = d.loadRecovering()
	}
	if err == nil {
		err = d.sweep()
	}
	if err != nil {
		closeQuietly(db)
		return nil, 0, err
	}
	return d, evicted, nil
}

// openIndex opens the bbolt file, turning panics and format errors into
// ErrCorruptIndex.
func openIndex(path string) (db *bbolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: open panicked: %v", ErrCorruptIndex, r)
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrInvalidMapping):
		return nil, fmt.Errorf("%w: %w", ErrCorruptIndex, err)
	default:
		return nil, fmt.Errorf("cache: open index: %w", err)
	}
}

// checkIndex runs bbolt's consistency check (every page reachable or free,
// no page twice, every key in order). It reads every page of the index
// once: 8 ms for 100,000 records (a 55 MB index in the page cache; from a
// cold disk, the time to read the file).
func checkIndex(db *bbolt.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: check panicked: %v", ErrCorruptIndex, r)
		}
	}()
	return db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for e := range tx.Check() {
			if len(errs) < 3 {
				errs = append(errs, e)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%w: %w", ErrCorruptIndex, errors.Join(errs...))
		}
		return nil
	})
}

// loadRecovering is load with panics inside bbolt turned into
// ErrCorruptIndex (bbolt's Update rolls back, releasing its locks, before
// the panic continues).
func (d *diskTier) loadRecovering() (evicted int, err error) {
	defer func() {
		if r := recover(); r != nil {
			evicted, err = 0, fmt.Errorf("%w: scan panicked: %v", ErrCorruptIndex, r)
		}
	}()
	return d.load()
}

// closeQuietly closes a database that failed its checks; a panic while
// closing a corrupt file is swallowed (the file is about to be replaced).
func closeQuietly(db *bbolt.DB) {
	defer func() { _ = recover() }()
	_ = db.Close()
}

// dropDiskContents moves the index aside and deletes every shard directory
// and temp file under dir.
func dropDiskContents(dir string) error {
	idx := filepath.Join(dir, indexFile)
	if err := os.Rename(idx, idx+corruptSuffix); err != nil && !os.IsNotExist(err) {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && isShard(e.Name()) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
