package control

import (
	"bytes"
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// Reads come from this replica's catalog.db with no network hop. They see
// every write applied here; use ReadIndex/WaitApplied for linearizability.

// Get returns the JSON of one record, or an error with CodeNotFound.
func (s *Store) Get(k Kind, id string) (json.RawMessage, error) {
	if !k.valid() {
		return nil, invalid("kind", "unknown kind %q", k)
	}
	var out json.RawMessage
	err := s.fsm.view(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(k)).Get([]byte(id))
		if v == nil {
			return notFound(k, id)
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// List returns the records of kind k in id order for which keep (nil keeps
// all) returns true.
func (s *Store) List(k Kind, keep func(json.RawMessage) bool) ([]json.RawMessage, error) {
	if !k.valid() {
		return nil, invalid("kind", "unknown kind %q", k)
	}
	var out []json.RawMessage
	err := s.fsm.view(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(k)).ForEach(func(_, v []byte) error {
			if keep == nil || keep(v) {
				out = append(out, bytes.Clone(v))
			}
			return nil
		})
	})
	return out, err
}

// History returns the kept revisions of a record, oldest first. The history
// survives a delete, so a deleted record can be rolled back.
func (s *Store) History(k Kind, id string) ([]json.RawMessage, error) {
	if !k.valid() {
		return nil, invalid("kind", "unknown kind %q", k)
	}
	prefix := historyPrefix(k, id)
	var out []json.RawMessage
	err := s.fsm.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		for key, v := c.Seek(prefix); key != nil && bytes.HasPrefix(key, prefix); key, v = c.Next() {
			if len(key) == len(prefix)+8 {
				out = append(out, bytes.Clone(v))
			}
		}
		return nil
	})
	return out, err
}

// AppliedIndex returns the index of the last entry applied on this replica.
func (s *Store) AppliedIndex() uint64 { return s.fsm.appliedIndex() }

// getAs decodes one record into T.
func getAs[T any](s *Store, k Kind, id string) (*T, error) {
	b, err := s.Get(k, id)
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, err
	}
	return v, nil
}

// listAs decodes every record of kind k into T, keeping those keep accepts.
func listAs[T any](s *Store, k Kind, keep func(*T) bool) ([]T, error) {
	raw, err := s.List(k, nil)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(raw))
	for _, b := range raw {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		if keep == nil || keep(&v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// Course returns a course.
func (s *Store) Course(id string) (*Course, error) { return getAs[Course](s, KindCourse, id) }

// Courses returns every course.
func (s *Store) Courses() ([]Course, error) { return listAs[Course](s, KindCourse, nil) }

// Module returns a module.
func (s *Store) Module(id string) (*Module, error) { return getAs[Module](s, KindModule, id) }

// Lesson returns a lesson.
func (s *Store) Lesson(id string) (*Lesson, error) { return getAs[Lesson](s, KindLesson, id) }

// Lessons returns every lesson.
func (s *Store) Lessons() ([]Lesson, error) { return listAs[Lesson](s, KindLesson, nil) }

// LessonsOfModule returns a module's lessons in the module's order.
func (s *Store) LessonsOfModule(moduleID string) ([]Lesson, error) {
	m, err := s.Module(moduleID)
	if err != nil {
		return nil, err
	}
	out := make([]Lesson, 0, len(m.Lessons))
	for _, id := range m.Lessons {
		l, err := s.Lesson(id)
		if err != nil {
			return nil, err
		}
		out = append(out, *l)
	}
	return out, nil
}

// Asset returns an asset.
func (s *Store) Asset(id string) (*Asset, error) { return getAs[Asset](s, KindAsset, id) }

// Assets returns every asset.
func (s *Store) Assets() ([]Asset, error) { return listAs[Asset](s, KindAsset, nil) }

// Session returns a live session.
func (s *Store) Session(id string) (*LiveSession, error) {
	return getAs[LiveSession](s, KindSession, id)
}

// Generation counts the changes to records of kind k seen by this replica
// (writes and snapshot restores). Readers cache a derived table, such as
// the sites' networks, until it moves.
func (s *Store) Generation(k Kind) uint64 { return s.fsm.generation(k) }

// Sessions returns every live session.
func (s *Store) Sessions() ([]LiveSession, error) { return listAs[LiveSession](s, KindSession, nil) }

// Sites returns every site.
func (s *Store) Sites() ([]Site, error) { return listAs[Site](s, KindSite, nil) }

// SigningKeys returns every signing key.
func (s *Store) SigningKeys() ([]SigningKey, error) { return listAs[SigningKey](s, KindKey, nil) }

// TokenByHash returns the API token whose hash is HashSecret(token).
//
// Every API request authenticates, so the token table is cached by hash
// and re-read only after a token write or a snapshot restore.
func (s *Store) TokenByHash(hash string) (*APIToken, error) {
	gen := s.fsm.generation(KindToken)
	s.tokenMu.Lock()
	byHash, cached := s.tokens, s.tokensGen == gen && s.tokens != nil
	s.tokenMu.Unlock()
	if !cached {
		ts, err := listAs[APIToken](s, KindToken, nil)
		if err != nil {
			return nil, err
		}
		byHash = make(map[string]APIToken, len(ts))
		for _, t := range ts {
			byHash[t.Hash] = t
		}
		s.tokenMu.Lock()
		s.tokens, s.tokensGen = byHash, gen
		s.tokenMu.Unlock()
	}
	t, ok := byHash[hash]
	if !ok {
		return nil, &Error{Code: CodeNotFound, Message: "token not found"}
	}
	return &t, nil
}
