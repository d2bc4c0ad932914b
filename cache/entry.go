package cache

import (
	"bytes"
	"context"
	"io"
	"os"
	"sync/atomic"
)

// Entry is one cached object handed to a caller. It stays readable until
// Release, even if the object is evicted meanwhile. An Entry is not safe for
// concurrent use, except that NewReader may be called from several
// goroutines.
type Entry struct {
	tier     string
	size     int64
	sum      [32]byte
	data     []byte      // memory entries
	file     *os.File    // disk entries
	obj      *diskObject // disk entries
	disk     *diskTier
	flight   *flight // fill entries
	rs       io.ReadSeeker
	released atomic.Bool
}

// Tier returns where the entry came from: TierMemory, TierDisk or TierFill
// (this Get started or joined a fill).
func (e *Entry) Tier() string { return e.tier }

// Size returns the body size. For fill entries it is the size passed to the
// Get that started the fill (-1 if unknown).
func (e *Entry) Size() int64 { return e.size }

// SHA256 returns the body's checksum; ok is false for fill entries, whose
// body is not complete yet.
func (e *Entry) SHA256() (sum [32]byte, ok bool) {
	return e.sum, e.tier != TierFill
}

// Bytes returns the body of a memory entry, to be treated as read-only;
// nil for disk and fill entries. Writing it in one call is the cheapest way
// to send a memory hit.
func (e *Entry) Bytes() []byte {
	if e.tier != TierMemory {
		return nil
	}
	return e.data
}

// ReadSeeker returns the complete body for http.ServeContent: a
// *bytes.Reader for memory entries, the open *os.File for disk entries (so
// net/http can use sendfile). Every call returns the same reader. It
// returns nil for fill entries; use NewReader.
func (e *Entry) ReadSeeker() io.ReadSeeker {
	if e.rs == nil {
		switch e.tier {
		case TierMemory:
			e.rs = bytes.NewReader(e.data)
		case TierDisk:
			e.rs = e.file
		}
	}
	return e.rs
}

// NewReader returns an independent reader of the body from its start. For
// fill entries it streams bytes as the fill writes them, returns an error
// wrapping ErrFillFailed if the fill fails, and io.EOF after the full body.
// ctx bounds waiting for more bytes. Close the reader before Release.
func (e *Entry) NewReader(ctx context.Context) io.ReadCloser {
	switch e.tier {
	case TierMemory:
		return io.NopCloser(bytes.NewReader(e.data))
	case TierDisk:
		return io.NopCloser(io.NewSectionReader(e.file, 0, e.size))
	}
	return &flightReader{f: e.flight, ctx: ctx}
}

// Release gives the entry back. The entry and its readers must not be used
// afterwards. Calling Release more than once is harmless.
func (e *Entry) Release() {
	if !e.released.CompareAndSwap(false, true) {
		return
	}
	if e.file != nil {
		_ = e.file.Close()
	}
	if e.obj != nil {
		e.disk.release(e.obj)
	}
}
