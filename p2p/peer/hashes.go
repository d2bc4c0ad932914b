package peer

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Hash list limits.
const (
	maxHashEntries   = 20000 // kept per peer, as the edge keeps per swarm
	hashListInterval = time.Second
)

// hashBook holds the edge's hashes: from tracker messages and hashes.json.
type hashBook struct {
	swarm   string
	listURL string // "" when unknown
	client  *http.Client
	now     func() time.Time

	mu   sync.Mutex
	sums map[uint64]wire.Digest

	fetchMu   sync.Mutex // one hashes.json fetch at a time
	lastFetch time.Time
}

func newHashBook(swarm, mediaURL string, client *http.Client, now func() time.Time) *hashBook {
	h := &hashBook{swarm: swarm, client: client, now: now, sums: make(map[uint64]wire.Digest)}
	if base, err := url.Parse(mediaURL); err == nil && mediaURL != "" {
		h.listURL = base.ResolveReference(&url.URL{Path: "hashes.json"}).String()
		if base.RawQuery != "" { // signed URLs: keep the query
			h.listURL += "?" + base.RawQuery
		}
	}
	return h
}

// putHex records a hash in the wire form; malformed values are ignored.
func (h *hashBook) putHex(seq uint64, sum string, size int64) {
	d, ok := wire.ParseDigest(sum, size)
	if !ok || seq > wire.MaxSeq {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.sums[seq]; !ok && len(h.sums) >= maxHashEntries {
		h.evictLowest()
	}
	h.sums[seq] = d
}

func (h *hashBook) evictLowest() {
	first, low := true, uint64(0)
	for k := range h.sums {
		if first || k < low {
			low, first = k, false
		}
	}
	delete(h.sums, low)
}

func (h *hashBook) get(seq uint64) (wire.Digest, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.sums[seq]
	return d, ok
}

// lookup returns the digest of seq, fetching hashes.json (at most once a
// second) when it is not known yet.
func (h *hashBook) lookup(ctx context.Context, seq uint64) (wire.Digest, bool) {
	if d, ok := h.get(seq); ok || h.listURL == "" {
		return d, ok
	}
	h.fetchMu.Lock()
	defer h.fetchMu.Unlock()
	if d, ok := h.get(seq); ok {
		return d, ok
	}
	if h.now().Sub(h.lastFetch) < hashListInterval {
		return wire.Digest{}, false
	}
	h.lastFetch = h.now()
	_ = h.fetchList(ctx)
	return h.get(seq)
}

// fetchList loads hashes.json into the book.
func (h *hashBook) fetchList(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.listURL, nil)
	if err != nil {
		return err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("peer: hash list: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: hash list: %s", ErrHTTPStatus, resp.Status)
	}
	list, err := wire.DecodeHashList(resp.Body)
	if err != nil {
		return err
	}
	if list.Swarm != h.swarm {
		return fmt.Errorf("peer: hash list of swarm %q, want %q", list.Swarm, h.swarm)
	}
	for _, s := range list.Segments {
		h.putHex(s.Seq, s.SHA256, s.Size)
	}
	return nil
}
