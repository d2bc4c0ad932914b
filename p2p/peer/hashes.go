package peer

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Hash list limits.
const (
	maxHashEntries   = 20000    // kept per peer, as the edge keeps per swarm
	maxHashListBytes = 16 << 20 // decompressed hashes.json
	hashListInterval = time.Second
)

// digest is what the edge published for one segment.
type digest struct {
	sum  [32]byte
	size int64
}

// hashBook holds the edge's hashes: from tracker messages and hashes.json.
type hashBook struct {
	swarm   string
	listURL string // "" when unknown
	client  *http.Client
	now     func() time.Time

	mu   sync.Mutex
	sums map[uint64]digest

	fetchMu   sync.Mutex // one hashes.json fetch at a time
	lastFetch time.Time
}

func newHashBook(swarm, mediaURL string, client *http.Client, now func() time.Time) *hashBook {
	h := &hashBook{swarm: swarm, client: client, now: now, sums: make(map[uint64]digest)}
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
	if len(sum) != 64 || size < 0 || size > wire.MaxSegmentBytes || seq > wire.MaxSeq {
		return
	}
	var d digest
	if _, err := hex.Decode(d.sum[:], []byte(sum)); err != nil {
		return
	}
	d.size = size
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

func (h *hashBook) get(seq uint64) (digest, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.sums[seq]
	return d, ok
}

// lookup returns the digest of seq, fetching hashes.json (at most once a
// second) when it is not known yet.
func (h *hashBook) lookup(ctx context.Context, seq uint64) (digest, bool) {
	if d, ok := h.get(seq); ok || h.listURL == "" {
		return d, ok
	}
	h.fetchMu.Lock()
	defer h.fetchMu.Unlock()
	if d, ok := h.get(seq); ok {
		return d, ok
	}
	if h.now().Sub(h.lastFetch) < hashListInterval {
		return digest{}, false
	}
	h.lastFetch = h.now()
	_ = h.fetchList(ctx)
	return h.get(seq)
}

// hashList is hashes.json.
type hashList struct {
	V        int    `json:"v"`
	Swarm    string `json:"swarm"`
	Segments []struct {
		Seq    uint64 `json:"seq"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	} `json:"segments"`
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
	list, err := parseHashList(io.LimitReader(resp.Body, maxHashListBytes))
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

func parseHashList(r io.Reader) (*hashList, error) {
	var list hashList
	if err := json.NewDecoder(r).Decode(&list); err != nil {
		return nil, fmt.Errorf("peer: hash list: %w", err)
	}
	if list.V != wire.ProtocolVersion {
		return nil, fmt.Errorf("peer: hash list version %d", list.V)
	}
	return &list, nil
}
