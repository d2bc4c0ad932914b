package cache

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"sync"
)

// FillFunc writes an object's body to w. It should return ctx.Err() soon
// after ctx is done. w is only valid until FillFunc returns.
type FillFunc func(ctx context.Context, w io.Writer) error

// flight is one in-progress fill. The fill goroutine appends to buf; readers
// copy out of it under mu and wait on changed between writes. Once done is
// set, buf and err never change again.
type flight struct {
	key     string
	size    int64 // expected size, -1 if unknown
	maxSize int64

	ready     chan struct{} // closed at the first byte or when the fill ends
	readyOnce sync.Once

	mu      sync.Mutex
	buf     []byte
	hash    hash.Hash
	changed chan struct{} // closed and replaced on every write and at the end
	done    bool
	err     error // terminal error; nil after a successful fill
	werr    error // first Write error; it fails the fill whatever it returns
	sum     [32]byte
	noStore bool   // set by Delete: do not store the result
	source  string // fills_total label; SetFillSource may change it
}

func newFlight(key string, size, maxSize int64) *flight {
	f := &flight{
		key:     key,
		size:    size,
		maxSize: maxSize,
		ready:   make(chan struct{}),
		hash:    sha256.New(),
		changed: make(chan struct{}),
	}
	if size > 0 {
		f.buf = make([]byte, 0, size)
	}
	return f
}

// Write appends p to the body, enforcing the expected and maximum sizes.
func (f *flight) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return 0, fmt.Errorf("cache: write to %q after the fill returned", f.key)
	}
	if f.werr != nil {
		return 0, f.werr
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := int64(len(f.buf)) + int64(len(p))
	if f.size >= 0 && n > f.size {
		f.werr = fmt.Errorf("%w: %q: more than %d bytes", ErrSizeMismatch, f.key, f.size)
		return 0, f.werr
	}
	if n > f.maxSize {
		f.werr = fmt.Errorf("%w: %q: more than %d bytes", ErrTooLarge, f.key, f.maxSize)
		return 0, f.werr
	}
	f.buf = append(f.buf, p...)
	f.hash.Write(p)
	f.broadcastLocked()
	f.readyOnce.Do(func() { close(f.ready) })
	return len(p), nil
}

// finish ends the fill with err (nil for success after checking the size)
// and returns the terminal error.
func (f *flight) finish(err error) error {
	f.mu.Lock()
	if f.werr != nil {
		err = f.werr
	}
	if err == nil && f.size >= 0 && int64(len(f.buf)) != f.size {
		err = fmt.Errorf("%w: %q: wrote %d bytes, want %d", ErrSizeMismatch, f.key, len(f.buf), f.size)
	}
	if err != nil {
		err = fmt.Errorf("%w: %q: %w", ErrFillFailed, f.key, err)
	} else {
		copy(f.sum[:], f.hash.Sum(nil))
	}
	f.hash = nil
	f.err = err
	f.done = true
	f.broadcastLocked()
	f.mu.Unlock()
	f.readyOnce.Do(func() { close(f.ready) })
	return err
}

func (f *flight) broadcastLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// wait blocks until the first byte was written or the fill ended, and
// returns the fill's error if no byte can be served.
func (f *flight) wait(ctx context.Context) error {
	select {
	case <-f.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil && len(f.buf) == 0 {
		return f.err
	}
	return nil
}

// result returns the body and checksum of a successfully finished fill.
func (f *flight) result() ([]byte, [32]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.done || f.err != nil {
		return nil, [32]byte{}, false
	}
	return f.buf, f.sum, true
}

// flightReader streams a flight's body from the start as it is written.
type flightReader struct {
	f   *flight
	ctx context.Context
	off int
}

// Read copies available bytes, waiting for more while the fill runs.
func (r *flightReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		f := r.f
		f.mu.Lock()
		if r.off < len(f.buf) {
			n := copy(p, f.buf[r.off:])
			r.off += n
			f.mu.Unlock()
			return n, nil
		}
		if f.done {
			err := f.err
			f.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

// Close implements io.Closer; the reader holds no resources.
func (r *flightReader) Close() error { return nil }
