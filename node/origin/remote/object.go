package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/classmesh/classmesh/node/origin"
)

// ErrClosed is returned by reads of an Object after Close.
var ErrClosed = errors.New("remote: object closed")

// object is an origin.Object read from one origin member in blocks.
type object struct {
	r        *Origin
	m        Peer
	path     string
	size     int64
	identity string
	block    int64

	mu     sync.Mutex
	blocks map[int64][]byte
	lru    []int64 // block indexes, most recently used last
	closed bool
}

var _ origin.Object = (*object)(nil)

func newObject(r *Origin, m Peer, path string, size int64, identity string) *object {
	return &object{r: r, m: m, path: path, size: size, identity: identity,
		block: int64(r.cfg.BlockSize), blocks: map[int64][]byte{}}
}

func (o *object) Size() int64      { return o.size }
func (o *object) Identity() string { return o.identity }

// Close drops the cached blocks. Reads after Close fail with ErrClosed.
func (o *object) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed, o.blocks, o.lru = true, nil, nil
	return nil
}

// ReadAt implements io.ReaderAt over aligned, cached blocks.
func (o *object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("remote: read %q: negative offset", o.path)
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= o.size {
			return n, io.EOF
		}
		idx := pos / o.block
		b, err := o.get(idx)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], b[pos-idx*o.block:])
	}
	return n, nil
}

// get returns block idx from the cache or the member.
func (o *object) get(idx int64) ([]byte, error) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil, fmt.Errorf("remote: read %q: %w", o.path, ErrClosed)
	}
	if b, ok := o.blocks[idx]; ok {
		o.touch(idx)
		o.mu.Unlock()
		return b, nil
	}
	o.mu.Unlock()

	start := idx * o.block
	length := min(o.block, o.size-start)
	req := Request{Op: OpRead, Path: o.path, Offset: start, Length: length}
	h, body, err := o.r.roundTrip(context.Background(), o.m, req, length)
	if err != nil {
		return nil, err
	}
	if h.Identity != o.identity {
		return nil, fmt.Errorf("remote: read %q: %w: %w: identity %q, opened as %q",
			o.path, origin.ErrChanged, origin.ErrUnavailable, h.Identity, o.identity)
	}
	if int64(len(body)) != length {
		return nil, fmt.Errorf("remote: read %q: %w: %w: block of %d bytes, want %d",
			o.path, origin.ErrChanged, origin.ErrUnavailable, len(body), length)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		if _, ok := o.blocks[idx]; !ok {
			o.blocks[idx] = body
			o.lru = append(o.lru, idx)
			o.evict()
		}
	}
	return body, nil
}

// touch marks idx most recently used. o.mu must be held.
func (o *object) touch(idx int64) {
	for i, v := range o.lru {
		if v == idx {
			o.lru = append(append(o.lru[:i:i], o.lru[i+1:]...), idx)
			return
		}
	}
}

// evict drops least recently used blocks beyond CacheBlocks. o.mu must be
// held.
func (o *object) evict() {
	for len(o.lru) > o.r.cfg.CacheBlocks {
		delete(o.blocks, o.lru[0])
		o.lru = o.lru[1:]
	}
}
