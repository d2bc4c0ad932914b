package peer

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"

	"github.com/classmesh/classmesh/p2p/wire"
)

// finishTail completes a segment a late peer had partly sent: the rest
// comes over HTTP as a Range request and the whole is verified against the
// edge's size and SHA-256. Only the missing bytes cost the edge egress. ok
// false: take the segment over HTTP in full (the edge ignored the range,
// the request failed, or the bytes did not verify; then the peer is
// reported and dropped, because the edge's part is trusted).
func (p *Peer) finishTail(ctx context.Context, req Request, part *partial) (Result, bool) {
	off := len(part.data)
	tail, err := p.getRange(ctx, req.URL, int64(off), part.want.Size)
	if err != nil {
		p.log.Debug("peer: tail over HTTP", "seq", req.Seq, "err", err)
		p.report(req.Seq, wire.SourcePeer, part.from, 0, false, wire.ReasonTimeout)
		return Result{}, false
	}
	data := make([]byte, 0, part.want.Size)
	data = append(append(data, part.data...), tail...)
	sum := sha256.Sum256(data)
	if int64(len(data)) != part.want.Size || sum != part.want.Sum {
		p.st.rejHash.Add(1)
		p.report(req.Seq, wire.SourcePeer, part.from, 0, false, wire.ReasonHash)
		p.dropPeer(part.from, true)
		return Result{}, false
	}
	p.st.bytesPeer.Add(int64(off))
	p.st.bytesHTTP.Add(int64(len(tail)))
	p.st.tails.Add(1)
	p.st.causes.add(CauseTimeout, len(tail))
	p.report(req.Seq, wire.SourcePeer, part.from, off, false, wire.ReasonTimeout)
	p.report(req.Seq, wire.SourceHTTP, "", len(tail), true, "")
	data = p.keep(req.Seq, entry{data: data, source: wire.SourcePeer, peer: part.from}, &sum)
	return Result{Seq: req.Seq, Data: data, Source: wire.SourcePeer, Peer: part.from}, true
}

// getRange fetches bytes off… of a segment of the given size over HTTP
// (through the downlink cap); anything but a 206 with exactly those bytes
// is an error.
func (p *Peer) getRange(ctx context.Context, rawURL string, off, size int64) ([]byte, error) {
	if off <= 0 || off >= size || size > p.cfg.MaxSegmentBytes {
		return nil, fmt.Errorf("peer: bad range %d of %d", off, size)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, size-1))
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	want := size - off
	if resp.StatusCode != http.StatusPartialContent || resp.ContentLength != want {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("%w: %s: %s for a range", ErrHTTPStatus, rawURL, resp.Status)
	}
	buf := make([]byte, want)
	for n := 0; n < len(buf); {
		m, err := resp.Body.Read(buf[n:min(n+32<<10, len(buf))])
		if m > 0 {
			n += m
			if werr := p.down.Wait(ctx, m); werr != nil {
				return nil, werr
			}
		}
		if err == io.EOF && n < len(buf) {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return buf, nil
}
