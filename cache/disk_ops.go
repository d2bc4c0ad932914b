package cache

import (
	"fmt"
	"os"

	"go.etcd.io/bbolt"
)

// get returns the object for key with a reference taken, counting the
// access, and its frequency counter after the access.
func (d *diskTier) get(key string) (*diskObject, uint8, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.policy.get(key)
	if !ok {
		return nil, 0, false
	}
	o := n.value
	o.refs++
	o.rec.Hits++
	o.rec.LastAccess = d.now()
	return o, n.freq, true
}

// contains reports whether key is held, without counting an access.
func (d *diskTier) contains(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.policy.peek(key)
	return ok
}

// open opens o's body and verifies it on first use in this process.
func (d *diskTier) open(o *diskObject) (*os.File, error) {
	f, err := os.Open(d.path(o.rec.File))
	if err != nil {
		return nil, fmt.Errorf("cache: open %q: %w", o.key, err)
	}
	if err := d.verify(o, f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// release drops a reference taken by get.
func (d *diskTier) release(o *diskObject) {
	d.mu.Lock()
	defer d.mu.Unlock()
	o.refs--
	d.deleteIfUnusedLocked(o)
}

// discard removes a corrupt or unreadable object from the tier.
func (d *diskTier) discard(o *diskObject) {
	d.mu.Lock()
	if n, ok := d.policy.peek(o.key); ok && n.value == o {
		d.policy.remove(o.key)
	}
	d.mu.Unlock()
	d.forget([]*diskObject{o})
}

// remove deletes key from the tier.
func (d *diskTier) remove(key string) {
	d.mu.Lock()
	n, ok := d.policy.remove(key)
	d.mu.Unlock()
	if ok {
		d.forget([]*diskObject{n.value})
	}
}

// forget marks objects (already out of the policy) removed, deletes their
// files once unused and their index records if they still name them.
func (d *diskTier) forget(objs []*diskObject) {
	if len(objs) == 0 {
		return
	}
	d.markRemoved(objs)
	err := d.db.Update(func(tx *bbolt.Tx) error {
		return deleteRecords(tx.Bucket(bucketObjects), objs)
	})
	if err != nil {
		d.log.Warn("cache: delete index records", "err", err)
	}
}

// markRemoved marks objects (already out of the policy) removed and deletes
// the files nobody reads.
func (d *diskTier) markRemoved(objs []*diskObject) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range objs {
		o.removed = true
		d.deleteIfUnusedLocked(o)
	}
}

// deleteRecords deletes each object's record unless it names another file
// (a newer version of the key stored meanwhile).
func deleteRecords(b *bbolt.Bucket, objs []*diskObject) error {
	for _, o := range objs {
		v := b.Get([]byte(o.key))
		if v == nil {
			continue
		}
		if rec, err := decodeRecord(v); err == nil && rec.File != o.rec.File {
			continue
		}
		if err := b.Delete([]byte(o.key)); err != nil {
			return err
		}
	}
	return nil
}

func (d *diskTier) deleteIfUnusedLocked(o *diskObject) {
	if !o.removed || o.refs > 0 {
		return
	}
	if err := os.Remove(d.path(o.rec.File)); err != nil && !os.IsNotExist(err) {
		d.log.Warn("cache: delete body file", "file", o.rec.File, "err", err)
	}
}

// store writes a body and indexes it, evicting as needed. It returns false
// if the tier does not admit an object of that size, and the number of
// objects evicted.
func (d *diskTier) store(key string, data []byte, sum [32]byte) (bool, int, error) {
	size := int64(len(data))
	if !d.policy.admits(size) {
		return false, 0, nil
	}
	now := d.now()
	o := &diskObject{key: key, verified: true, rec: record{
		File: newFileName(key), Size: size, SHA256: sum, StoredAt: now, LastAccess: now,
	}}
	if err := d.writeFile(o.rec.File, data); err != nil {
		return false, 0, fmt.Errorf("cache: write %q: %w", key, err)
	}
	var gone []*diskObject
	d.mu.Lock()
	if old, ok := d.policy.remove(key); ok {
		gone = append(gone, old.value)
	}
	replaced := len(gone)
	d.policy.add(key, size, o, func(n *node[*diskObject]) { gone = append(gone, n.value) })
	n, _ := d.policy.peek(key)
	o.rec.Queue, o.rec.Freq, o.rec.Seq = n.queue, n.freq, n.seq
	enc := o.rec.encode()
	d.mu.Unlock()
	evicted := len(gone) - replaced
	err := d.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketObjects)
		if err := deleteRecords(b, gone); err != nil {
			return err
		}
		return b.Put([]byte(key), enc)
	})
	d.markRemoved(gone)
	if err != nil {
		d.discard(o)
		return false, evicted, fmt.Errorf("cache: index %q: %w", key, err)
	}
	return true, evicted, nil
}

// usage returns the bytes and objects held.
func (d *diskTier) usage() (bytes int64, objects int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.policy.bytes(), d.policy.len()
}

// close persists the policy state and access statistics, then closes the
// index.
func (d *diskTier) close() error {
	d.mu.Lock()
	recs := make(map[string]record, d.policy.len())
	d.policy.each(func(n *node[*diskObject]) {
		r := n.value.rec
		r.Queue, r.Freq, r.Seq = n.queue, n.freq, n.seq
		recs[n.key] = r
	})
	d.mu.Unlock()
	err := d.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketObjects)
		for k, r := range recs {
			if v := b.Get([]byte(k)); v == nil {
				continue // deleted concurrently
			}
			if err := b.Put([]byte(k), r.encode()); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := d.db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cache: close disk tier: %w", err)
	}
	return nil
}
