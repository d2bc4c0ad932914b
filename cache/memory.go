package cache

import "sync"

// memObject is an immutable body held by the memory tier. Readers keep the
// slice alive after eviction: the garbage collector is the reference count.
type memObject struct {
	data []byte
	sum  [32]byte
}

// memTier is the memory tier: bodies in RAM under an S3-FIFO byte budget.
type memTier struct {
	mu     sync.Mutex
	policy *s3fifo[*memObject]
}

func newMemTier(capacity int64) *memTier {
	return &memTier{policy: newS3FIFO[*memObject](capacity)}
}

// get returns the object for key, counting the access.
func (m *memTier) get(key string) (*memObject, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.policy.get(key)
	if !ok {
		return nil, false
	}
	return n.value, true
}

// contains reports whether key is held, without counting an access.
func (m *memTier) contains(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.policy.peek(key)
	return ok
}

// add stores a body unless it is too large or already present and returns
// the number of objects evicted to make room.
func (m *memTier) add(key string, obj *memObject) (stored bool, evicted int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	stored = m.policy.add(key, int64(len(obj.data)), obj, func(*node[*memObject]) { evicted++ })
	return stored, evicted
}

// remove drops key.
func (m *memTier) remove(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.policy.remove(key)
}

// usage returns the bytes and objects held.
func (m *memTier) usage() (bytes int64, objects int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.policy.bytes(), m.policy.len()
}
