package p2p

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/classmesh/classmesh/p2p/wire"
)

// swarmHashes is the known hashes of one swarm plus the cached hashes.json
// representations for generation gen.
type swarmHashes struct {
	id   string
	m    map[uint64]wire.Digest
	elem *list.Element
	gen  uint64
	rep  *hashListRep
}

// hashListRep is one generation of hashes.json: the body and its
// compressed forms (built lazily).
type hashListRep struct {
	gen  uint64
	tag  string // ETag core (no quotes, no suffix)
	body []byte
	mu   sync.Mutex
	enc  map[string][]byte
}

// hashStore keeps segment hashes per swarm, bounded per swarm (highest seqs
// kept) and in total (least recently used swarms evicted).
type hashStore struct {
	perSwarm, total int
	zenc            *zstd.Encoder

	mu     sync.Mutex
	n      int
	swarms map[string]*swarmHashes
	lru    *list.List // of *swarmHashes, most recent first
}

func newHashStore(perSwarm, total int) (*hashStore, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, err
	}
	return &hashStore{perSwarm: perSwarm, total: total, zenc: enc,
		swarms: make(map[string]*swarmHashes), lru: list.New()}, nil
}

func (h *hashStore) close() { _ = h.zenc.Close() }

// put stores a hash; changed is false when it was already known as is.
func (h *hashStore) put(swarm string, seq uint64, sum [32]byte, size int64) (changed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.swarms[swarm]
	if s == nil {
		s = &swarmHashes{id: swarm, m: make(map[uint64]wire.Digest)}
		s.elem = h.lru.PushFront(s)
		h.swarms[swarm] = s
	} else {
		h.lru.MoveToFront(s.elem)
	}
	e := wire.Digest{Sum: sum, Size: size}
	if old, ok := s.m[seq]; ok {
		if old == e {
			return false
		}
	} else {
		h.n++
	}
	s.m[seq] = e
	s.gen++
	if len(s.m) > h.perSwarm {
		h.trimSwarm(s)
	}
	for h.n > h.total && h.lru.Len() > 1 {
		h.evict(h.lru.Back().Value.(*swarmHashes))
	}
	return true
}

// trimSwarm drops the lowest seqs down to 90 % of the per-swarm bound, so
// trimming is amortized over many puts.
func (h *hashStore) trimSwarm(s *swarmHashes) {
	seqs := make([]uint64, 0, len(s.m))
	for q := range s.m {
		seqs = append(seqs, q)
	}
	slices.Sort(seqs)
	keep := h.perSwarm * 9 / 10
	for _, q := range seqs[:len(seqs)-keep] {
		delete(s.m, q)
		h.n--
	}
}

func (h *hashStore) evict(s *swarmHashes) {
	h.lru.Remove(s.elem)
	delete(h.swarms, s.id)
	h.n -= len(s.m)
}

func (h *hashStore) get(swarm string, seq uint64) (wire.Digest, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.swarms[swarm]
	if s == nil {
		return wire.Digest{}, false
	}
	e, ok := s.m[seq]
	return e, ok
}

// rep returns the current hashes.json representation of swarm.
func (h *hashStore) rep(swarm string) *hashListRep {
	h.mu.Lock()
	s := h.swarms[swarm]
	if s == nil {
		h.mu.Unlock()
		return buildRep(swarm, nil, 0)
	}
	h.lru.MoveToFront(s.elem)
	if s.rep != nil && s.rep.gen == s.gen {
		r := s.rep
		h.mu.Unlock()
		return r
	}
	r := buildRep(swarm, s.m, s.gen)
	s.rep = r
	h.mu.Unlock()
	return r
}

func buildRep(swarm string, m map[uint64]wire.Digest, gen uint64) *hashListRep {
	seqs := make([]uint64, 0, len(m))
	for q := range m {
		seqs = append(seqs, q)
	}
	slices.Sort(seqs)
	b := wire.AppendHashList(make([]byte, 0, 64+len(seqs)*110), swarm, seqs, m)
	sum := sha256.Sum256(b)
	return &hashListRep{gen: gen, tag: hex.EncodeToString(sum[:12]), body: b, enc: make(map[string][]byte)}
}

// encoded returns the body compressed with coding ("gzip" or "zstd").
func (r *hashListRep) encoded(coding string, zenc *zstd.Encoder) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.enc[coding]; ok {
		return b
	}
	var out []byte
	switch coding {
	case "zstd":
		out = zenc.EncodeAll(r.body, make([]byte, 0, len(r.body)/3+64))
	case "gzip":
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		_, _ = zw.Write(r.body)
		_ = zw.Close()
		out = buf.Bytes()
	default:
		return r.body
	}
	r.enc[coding] = out
	return out
}
