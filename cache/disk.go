package cache

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// indexFile is the bbolt index inside Config.Dir.
const indexFile = "index.db"

// tempPrefix starts the name of every body file being written.
const tempPrefix = ".tmp-"

var bucketObjects = []byte("objects")

// diskObject is one body file. refs counts open Entries; a removed object's
// file is deleted when refs drops to zero, so eviction never pulls a file
// from under a reader.
type diskObject struct {
	key string
	rec record // Queue, Freq and Seq are only meaningful when persisted

	refs    int  // guarded by diskTier.mu
	removed bool // guarded by diskTier.mu

	verifyMu sync.Mutex
	verified bool // body checked against rec.SHA256 in this process
}

// diskTier keeps bodies as files under dir and their index in bbolt.
type diskTier struct {
	dir string
	db  *bbolt.DB
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	policy *s3fifo[*diskObject]
}

// openDisk opens or creates the disk tier in dir and rebuilds the policy
// from the index. Records whose file is missing or has the wrong size are
// dropped; files without a record and leftover temp files are deleted. A
// corrupt index is not fatal: the tier starts empty (disk_recover.go) and
// reset is true.
func openDisk(dir string, capacity int64, log *slog.Logger, now func() time.Time) (d *diskTier, evicted int, reset bool, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, false, fmt.Errorf("cache: disk tier: %w", err)
	}
	return openDiskRecovering(dir, capacity, log, now)
}

// load reads the index into the policy in queue order.
func (d *diskTier) load() (int, error) {
	var objs []*diskObject
	var bad [][]byte
	err := d.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketObjects)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			rec, err := decodeRecord(v)
			if err == nil {
				err = d.checkFile(rec)
			}
			if err != nil {
				d.log.Warn("cache: dropping index record", "key", string(k), "err", err)
				bad = append(bad, bytes.Clone(k))
				return nil
			}
			objs = append(objs, &diskObject{key: string(k), rec: rec})
			return nil
		})
	})
	if err == nil && len(bad) > 0 {
		err = d.db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketObjects)
			for _, k := range bad {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return 0, fmt.Errorf("cache: load index: %w", err)
	}
	sortBySeq(objs)
	for _, o := range objs {
		if d.policy.admits(o.rec.Size) {
			d.policy.restore(o.key, o.rec.Size, o, o.rec.Queue, o.rec.Freq)
		}
	}
	var evicted []*diskObject
	d.policy.shrink(func(n *node[*diskObject]) { evicted = append(evicted, n.value) })
	d.forget(evicted)
	return len(evicted), nil
}

// checkFile verifies that rec's body file exists with the recorded size.
func (d *diskTier) checkFile(rec record) error {
	fi, err := os.Stat(d.path(rec.File))
	if err != nil {
		return err
	}
	if fi.Size() != rec.Size {
		return fmt.Errorf("%w: file has %d bytes, index says %d", ErrChecksum, fi.Size(), rec.Size)
	}
	return nil
}

// sweep deletes temp files and body files that no index record names.
func (d *diskTier) sweep() error {
	known := make(map[string]bool, d.policy.len())
	d.policy.each(func(n *node[*diskObject]) { known[n.value.rec.File] = true })
	shards, err := os.ReadDir(d.dir)
	if err != nil {
		return fmt.Errorf("cache: sweep: %w", err)
	}
	for _, s := range shards {
		if !s.IsDir() || !isShard(s.Name()) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(d.dir, s.Name()))
		if err != nil {
			return fmt.Errorf("cache: sweep: %w", err)
		}
		for _, f := range files {
			rel := s.Name() + "/" + f.Name()
			if known[rel] {
				continue
			}
			d.log.Info("cache: removing orphaned file", "file", rel)
			if err := os.RemoveAll(d.path(rel)); err != nil {
				return fmt.Errorf("cache: sweep: %w", err)
			}
		}
	}
	return nil
}

func isShard(name string) bool {
	return len(name) == 2 && validFileName(name+"/0000")
}

func (d *diskTier) path(rel string) string {
	return filepath.Join(d.dir, filepath.FromSlash(rel))
}

// newFileName returns a fresh, unique body file name for key.
func newFileName(key string) string {
	h := sha256.Sum256([]byte(key))
	var r [8]byte
	_, _ = rand.Read(r[:])
	name := hex.EncodeToString(h[:12]) + "-" + hex.EncodeToString(r[:])
	return name[:2] + "/" + name
}

// writeFile writes data durably: temp file, fsync, rename, fsync the shard.
func (d *diskTier) writeFile(rel string, data []byte) (err error) {
	shard := filepath.Dir(d.path(rel))
	if err := os.MkdirAll(shard, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(shard, tempPrefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), d.path(rel)); err != nil {
		return err
	}
	return syncDir(shard)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// sortBySeq orders objects by their persisted queue position.
func sortBySeq(objs []*diskObject) {
	slices.SortFunc(objs, func(a, b *diskObject) int { return cmp.Compare(a.rec.Seq, b.rec.Seq) })
}

// verify checks the body against its recorded SHA-256 once per process.
func (d *diskTier) verify(o *diskObject, f *os.File) error {
	o.verifyMu.Lock()
	defer o.verifyMu.Unlock()
	if o.verified {
		return nil
	}
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(f, 0, o.rec.Size+1))
	if err != nil {
		return fmt.Errorf("cache: verify %q: %w", o.key, err)
	}
	if n != o.rec.Size || !bytes.Equal(h.Sum(nil), o.rec.SHA256[:]) {
		return fmt.Errorf("%w: %q (%s)", ErrChecksum, o.key, o.rec.File)
	}
	o.verified = true
	return nil
}
