package control

import (
	"bytes"
	"encoding/json"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// writer applies one decoded command inside a bbolt write transaction. All
// checks run before the first write, so a rejected command changes nothing.
type writer struct {
	tx      *bolt.Tx
	rev     uint64 // the revision of everything this command writes
	cmd     *Command
	history int
}

func (w *writer) run() (record, error) {
	c := w.cmd
	old, err := w.load(c.Kind, c.ID)
	if err != nil {
		return nil, err
	}
	if c.Op != OpCreate && c.Op != OpRollback && old == nil {
		return nil, notFound(c.Kind, c.ID)
	}
	if c.IfMatch != 0 && (old == nil || old.meta().Revision != c.IfMatch) {
		e := conflict("%s %q: if_match %d does not match the current revision", c.Kind, c.ID, c.IfMatch)
		if old != nil {
			e.Revision = old.meta().Revision
		}
		return nil, e
	}
	switch c.Op {
	case OpCreate:
		if old != nil {
			e := conflict("%s %q already exists", c.Kind, c.ID)
			e.Revision = old.meta().Revision
			return nil, e
		}
		rec, err := c.decodePayload()
		if err != nil {
			return nil, err
		}
		return rec, w.put(rec, nil, false)
	case OpUpdate:
		rec, err := c.decodePayload()
		if err != nil {
			return nil, err
		}
		return rec, w.put(rec, old, false)
	case OpRollback:
		rec, err := w.loadHistory(c.Kind, c.ID, c.ToRevision)
		if err != nil {
			return nil, err
		}
		return rec, w.put(rec, old, true)
	default:
		return nil, w.delete(old)
	}
}

// put validates rec, checks its references, links it into its parent and
// stores it with a new history entry.
func (w *writer) put(rec, old record, rollback bool) error {
	*rec.meta() = Meta{Revision: w.rev, UpdatedAt: w.cmd.At.UTC()}
	if err := w.normalize(rec, old, rollback); err != nil {
		return err
	}
	if err := rec.validate(); err != nil {
		return err
	}
	if err := w.checkRefs(rec, old); err != nil {
		return err
	}
	if err := w.link(rec, old); err != nil {
		return err
	}
	return w.store(w.cmd.Kind, rec)
}

// store writes rec and its history entry, pruning old history.
func (w *writer) store(k Kind, rec record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return storageError{err}
	}
	if err := w.tx.Bucket([]byte(k)).Put([]byte(rec.key()), b); err != nil {
		return storageError{err}
	}
	h := w.tx.Bucket(bucketHistory)
	if err := h.Put(historyKey(k, rec.key(), rec.meta().Revision), b); err != nil {
		return storageError{err}
	}
	return w.pruneHistory(h, k, rec.key())
}

func (w *writer) pruneHistory(h *bolt.Bucket, k Kind, id string) error {
	prefix := historyPrefix(k, id)
	var keys [][]byte
	c := h.Cursor()
	for key, _ := c.Seek(prefix); key != nil && bytes.HasPrefix(key, prefix); key, _ = c.Next() {
		keys = append(keys, slices.Clone(key))
	}
	for len(keys) > w.history {
		if err := h.Delete(keys[0]); err != nil {
			return storageError{err}
		}
		keys = keys[1:]
	}
	return nil
}

// load returns the current record or nil when it does not exist.
func (w *writer) load(k Kind, id string) (record, error) {
	v := w.tx.Bucket([]byte(k)).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	rec := newRecord(k)
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, storageError{err}
	}
	return rec, nil
}

func (w *writer) exists(k Kind, id string) bool {
	return w.tx.Bucket([]byte(k)).Get([]byte(id)) != nil
}

func (w *writer) loadHistory(k Kind, id string, rev uint64) (record, error) {
	v := w.tx.Bucket(bucketHistory).Get(historyKey(k, id, rev))
	if v == nil {
		return nil, &Error{Code: CodeNotFound, Message: "revision not in the history of " + string(k) + " " + id}
	}
	rec := newRecord(k)
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, storageError{err}
	}
	return rec, nil
}

// touch stores a parent record changed as a side effect (an order list).
func (w *writer) touch(k Kind, rec record) error {
	*rec.meta() = Meta{Revision: w.rev, UpdatedAt: w.cmd.At.UTC()}
	return w.store(k, rec)
}

// scan calls fn for every record of kind k until fn returns false.
func (w *writer) scan(k Kind, fn func(rec record) bool) error {
	return w.tx.Bucket([]byte(k)).ForEach(func(_, v []byte) error {
		rec := newRecord(k)
		if err := json.Unmarshal(v, rec); err != nil {
			return storageError{err}
		}
		if !fn(rec) {
			return errStopScan
		}
		return nil
	})
}

var errStopScan = &Error{Code: CodeInvalid, Message: "stop"}

// count returns how many records of kind k satisfy pred.
func (w *writer) count(k Kind, pred func(rec record) bool) (int, error) {
	n := 0
	err := w.scan(k, func(rec record) bool {
		if pred(rec) {
			n++
		}
		return true
	})
	return n, err
}

// samePermutation reports whether a and b hold the same ids.
func samePermutation(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func remove(list []string, id string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == id })
}
