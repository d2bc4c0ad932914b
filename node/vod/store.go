package vod

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names of the index file.
var (
	bucketFiles    = []byte("files")    // origin path -> file record
	bucketSegments = []byte("segments") // target/asset ID -> segment record
)

// store persists index records in bbolt, or in memory when it has no
// database.
type store struct {
	db *bolt.DB

	mu  sync.Mutex
	mem map[string]map[string][]byte // bucket -> key -> value
}

func openStore(path string) (*store, error) {
	s := &store{mem: map[string]map[string][]byte{}}
	if path == "" {
		return s, nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("vod: open index %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFiles, bucketSegments} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("vod: init index %s: %w", path, err)
	}
	s.db = db
	return s, nil
}

// get returns a copy of the value, or nil.
func (s *store) get(bucket []byte, key string) ([]byte, error) {
	if s.db == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.mem[string(bucket)][key], nil
	}
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucket).Get([]byte(key)); v != nil {
			out = bytes.Clone(v)
		}
		return nil
	})
	return out, err
}

func (s *store) put(bucket []byte, key string, val []byte) error {
	if s.db == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		m := s.mem[string(bucket)]
		if m == nil {
			m = map[string][]byte{}
			s.mem[string(bucket)] = m
		}
		m[key] = val
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte(key), val)
	})
}

// prune deletes every key of bucket for which keep returns false.
func (s *store) prune(bucket []byte, keep func(key string) bool) error {
	if s.db == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		for k := range s.mem[string(bucket)] {
			if !keep(k) {
				delete(s.mem[string(bucket)], k)
			}
		}
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		var dead [][]byte
		err := b.ForEach(func(k, _ []byte) error {
			if !keep(string(k)) {
				dead = append(dead, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *store) close() error {
	if s.db == nil {
		return nil
	}
	return s.db.Close()
}
