package peer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Request names one media segment to fetch.
type Request struct {
	// Seq is the segment number (N of seg-N.m4s).
	Seq uint64
	// URL is where the edge serves it.
	URL string
	// PlayAt is when playback needs the segment. Peers are tried only when
	// it lies at least p2p_window_s[0] ahead; a peer transfer still running
	// at PlayAt − http_margin_s is abandoned for HTTP. Zero (startup, or
	// unknown) means HTTP at once.
	PlayAt time.Time

	live bool // a tracker fetch push: this peer is a named fetcher
}

// Result is a fetched, verified segment.
type Result struct {
	Seq  uint64
	Data []byte
	// Source is wire.SourceHTTP or wire.SourcePeer; Peer the neighbor's id.
	Source string
	Peer   string
	// Rejected counts peer transfers of this segment that failed
	// verification (those peers were dropped).
	Rejected int
}

// flight deduplicates concurrent fetches of one segment.
type flight struct {
	done chan struct{}
	res  Result
	err  error
}

// Fetch returns segment req.Seq: from the store, from peers as the tracker
// directs (verified against the edge's size and SHA-256), or over HTTP.
// Every segment obtained is reported to the tracker and announced.
func (p *Peer) Fetch(ctx context.Context, req Request) (Result, error) {
	if e, ok := p.store.get(req.Seq); ok {
		return Result{Seq: req.Seq, Data: e.data, Source: e.source, Peer: e.peer}, nil
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Result{}, ErrClosed
	}
	if f := p.flights[req.Seq]; f != nil {
		p.mu.Unlock()
		select {
		case <-f.done:
			return f.res, f.err
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	p.flights[req.Seq] = f
	p.mu.Unlock()
	f.res, f.err = p.fetch(ctx, req)
	p.mu.Lock()
	delete(p.flights, req.Seq)
	p.mu.Unlock()
	close(f.done)
	return f.res, f.err
}

func (p *Peer) fetch(ctx context.Context, req Request) (Result, error) {
	var rejected int
	deadline, cause := p.peerDeadline(req)
	if cause < 0 {
		res, c, part, ok := p.fromPeers(ctx, req.Seq, deadline)
		if ok {
			return res, nil
		}
		rejected, cause = res.Rejected, c
		if part != nil {
			if res, ok := p.finishTail(ctx, req, part); ok {
				return res, nil
			}
		}
	}
	var hint int64
	if d, ok := p.hashes.get(req.Seq); ok {
		hint = d.Size
	}
	data, err := p.getHTTP(ctx, req.URL, hint)
	if err != nil {
		return Result{Seq: req.Seq, Rejected: rejected}, err
	}

	p.st.bytesHTTP.Add(int64(len(data)))
	p.st.segsHTTP.Add(1)
	p.st.causes.add(cause, len(data))
	p.report(req.Seq, wire.SourceHTTP, "", len(data), true, "")
	data = p.keep(req.Seq, entry{data: data, source: wire.SourceHTTP}, nil)
	return Result{Seq: req.Seq, Data: data, Source: wire.SourceHTTP, Rejected: rejected}, nil
}

// peerDeadline decides whether to try peers for req, and until when:
// cause is -1 to try peers, else why HTTP is used at once.
func (p *Peer) peerDeadline(req Request) (time.Time, Cause) {
	p.mu.Lock()
	online, pol, cc := p.online, p.policy, p.ccfg
	p.mu.Unlock()
	switch {
	case req.live:
		return time.Time{}, CauseFetcher
	case !online || pol == wire.PolicyOff:
		return time.Time{}, CauseOffline
	case req.PlayAt.IsZero():
		return time.Time{}, CauseStartup
	}
	w := p.window(req.Seq, cc)
	if req.PlayAt.Sub(p.cfg.Now()) < w.lo {
		return time.Time{}, CauseNear
	}
	return req.PlayAt.Add(-w.margin), -1
}

// window is the tracker's p2p window as this peer uses it for seq.
func (p *Peer) window(_ uint64, cc wire.ClientConfig) window {
	return effectiveWindow(seconds(cc.P2PWindowS[0]), seconds(cc.HTTPMarginS))
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// keep stores a verified segment (shared through the Interner if any)
// and announces it. sum is its SHA-256 when already computed. It returns
// the bytes kept.
func (p *Peer) keep(seq uint64, e entry, sum *[32]byte) []byte {
	if p.cfg.Interner != nil {
		if sum == nil {
			s := sha256.Sum256(e.data)
			sum = &s
		}
		e.data = p.cfg.Interner.intern(*sum, e.data)
	}
	evicted, stored := p.store.put(seq, e)
	if stored {
		p.announce(seq, evicted)
	}
	return e.data
}

// prefetch takes seq over HTTP at once (tracker "fetch": live fetcher).
func (p *Peer) prefetch(seq uint64) {
	base, err := url.Parse(p.cfg.MediaURL)
	if err != nil {
		return
	}
	u := base.ResolveReference(&url.URL{Path: fmt.Sprintf("seg-%d.m4s", seq)})
	u.RawQuery = base.RawQuery
	p.goTracked(func() {
		ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
		defer cancel()
		_, _ = p.Fetch(ctx, Request{Seq: seq, URL: u.String(), live: true})
	})
}

// GetHTTP fetches url through the downlink cap, at most MaxSegmentBytes.
// Use it for init segments (never shared) as well.
func (p *Peer) GetHTTP(ctx context.Context, rawURL string) ([]byte, error) {
	return p.getHTTP(ctx, rawURL, 0)
}

// getHTTP is GetHTTP with the expected size (the edge's) when the response
// has no Content-Length, to allocate once.
func (p *Peer) getHTTP(ctx context.Context, rawURL string, hint int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("%w: %s: %s", ErrHTTPStatus, rawURL, resp.Status)
	}
	limit := p.cfg.MaxSegmentBytes
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, resp.ContentLength)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	} else if hint > 0 && hint <= limit {
		buf.Grow(int(hint) + 1)
	}
	chunk := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(chunk)
		if n > 0 {
			if int64(buf.Len()+n) > limit {
				return nil, fmt.Errorf("%w: above %d bytes", ErrTooLarge, limit)
			}
			buf.Write(chunk[:n])
			if werr := p.down.Wait(ctx, n); werr != nil {
				return nil, werr
			}
		}
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}
