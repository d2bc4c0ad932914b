package vod

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/classmesh/classmesh/node/mp4"
)

// Read coalescing: sample ranges closer than maxReadGap are fetched in one
// ReadAt (the gap bytes are read and dropped), up to maxReadSize per read
// unless a single sample is larger.
const (
	maxReadGap  = 64 << 10
	maxReadSize = 1 << 20
	// maxPooledBuf keeps oversized buffers out of the pool.
	maxPooledBuf = 4 << 20
)

// CacheKey returns the cache key of a file of a rendition ("init.mp4",
// "seg-3.m4s", "media.m3u8"). It includes a fingerprint of the asset's
// sources (origin identities) and the segment target, so a changed source
// or setting never serves a stale cache entry.
func (l *Library) CacheKey(a *Asset, r *Rendition, name string) string {
	h := sha256.Sum256([]byte(a.fingerprint + "\x00" + r.SourceID))
	return a.ID + "/" + r.ID + "/" + hex.EncodeToString(h[:8]) + "/" + name
}

// WriteSegment packages media segment n of rendition r of asset a and
// writes it to w: exactly r.Segments[n].Size bytes on success. The segment
// header is written before any sample is read, so the first bytes leave
// quickly; the samples follow in decode order, read with coalesced ReadAt
// calls.
//
// Errors: ErrAssetFailed for a failed asset, ErrNotFound for a segment out
// of range, ErrStale when the source changed since indexing (a re-index is
// scheduled), ErrOrigin wrapping the origin's error when reading fails.
// Errors from w are returned as they are.
func (l *Library) WriteSegment(ctx context.Context, a *Asset, r *Rendition, n int, w io.Writer) error {
	start := time.Now()
	if a.Status != StatusReady {
		return fmt.Errorf("%w: %s: %s", ErrAssetFailed, a.ID, a.Reason)
	}
	if n < 0 || n >= len(r.Segments) {
		return fmt.Errorf("%w: %s/%s has %d segments, no segment %d", ErrNotFound, a.ID, r.ID, len(r.Segments), n)
	}
	if l.ctx.Err() != nil {
		return ErrClosed
	}
	po, err := l.objects.get(ctx, r.Path, l.origin.Open)
	if err != nil {
		return fmt.Errorf("%w: open %s: %w", ErrOrigin, r.Path, err)
	}
	bad := false
	defer func() { l.objects.put(po, bad) }()
	if id := po.obj.Identity(); id != r.SourceID {
		bad = true
		l.scheduleRefresh()
		return fmt.Errorf("%w: %s: identity %q, indexed %q", ErrStale, r.Path, id, r.SourceID)
	}
	samples := r.samples(n)
	bp := l.buffer()
	defer l.release(bp)
	*bp = mp4.AppendSegmentHeader((*bp)[:0], uint32(n+1), r.Track, samples)
	if _, err := w.Write(*bp); err != nil {
		return err
	}
	bad, err = l.writeSamples(ctx, po, samples, w, bp)
	if err != nil {
		return err
	}
	l.metrics.observe("segment", start)
	return nil
}

// writeSamples reads the samples' bytes in coalesced ranges and writes
// them in order. It reports whether the origin object failed.
func (l *Library) writeSamples(ctx context.Context, po *pooledObject, samples []mp4.Sample, w io.Writer, bp *[]byte) (bool, error) {
	for i := 0; i < len(samples); {
		if err := ctx.Err(); err != nil {
			return false, fmt.Errorf("%w: %w", ErrOrigin, err)
		}
		j, lo, hi := coalesce(samples, i)
		buf := grow(bp, int(hi-lo))
		got, err := po.obj.ReadAt(buf, lo)
		l.metrics.readBytes(got)
		if got < len(buf) || (err != nil && !errors.Is(err, io.EOF)) {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: short read at %d: %d of %d bytes", io.ErrUnexpectedEOF, lo, got, len(buf))
			}
			return true, fmt.Errorf("%w: read %s: %w", ErrOrigin, po.path, err)
		}
		for _, s := range samples[i:j] {
			off := s.Offset - lo
			if _, err := w.Write(buf[off : off+int64(s.Size)]); err != nil {
				return false, err
			}
		}
		i = j
	}
	return false, nil
}

// coalesce returns the end index j and byte range [lo, hi) of one read
// starting at samples[i]: following samples join while they start at or
// after the range end, less than maxReadGap after it, and the range stays
// within maxReadSize.
func coalesce(samples []mp4.Sample, i int) (j int, lo, hi int64) {
	lo = samples[i].Offset
	hi = lo + int64(samples[i].Size)
	for j = i + 1; j < len(samples); j++ {
		s := samples[j]
		end := s.Offset + int64(s.Size)
		if s.Offset < hi || s.Offset-hi >= maxReadGap || end-lo > maxReadSize {
			break
		}
		hi = end
	}
	return j, lo, hi
}

func (l *Library) buffer() *[]byte {
	if bp, ok := l.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

func (l *Library) release(bp *[]byte) {
	if cap(*bp) <= maxPooledBuf {
		*bp = (*bp)[:0]
		l.bufs.Put(bp)
	}
}

// grow returns (*bp)[:n], reallocating when the capacity is short. The
// header bytes in *bp have been written already and may be overwritten.
func grow(bp *[]byte, n int) []byte {
	if cap(*bp) < n {
		*bp = make([]byte, n, max(n, maxReadSize))
	}
	*bp = (*bp)[:n]
	return *bp
}
