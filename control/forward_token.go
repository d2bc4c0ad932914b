package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// A replica that lags behind the leader (a node that just joined, a
// non-voter on a slow link) does not know an API token created a moment
// ago, and would answer 401 to a valid token. LookupToken asks the
// leader before a miss becomes a 401.
//
// Every unknown bearer token would then cost a round trip to the leader,
// so lookups are bounded: answers (found or not) are cached for
// tokenLookupTTL, at most tokenLookupsInFlight go to the leader at once
// (more fail with ErrUnavailable, a 503, rather than queue), and each is
// bounded by tokenLookupTimeout.
const (
	tokenLookupTTL       = 5 * time.Second
	tokenLookupCacheSize = 4096
	tokenLookupsInFlight = 8
	tokenLookupTimeout   = 3 * time.Second
)

// tokenLookups caches the leader's answers by token hash.
type tokenLookups struct {
	sem   chan struct{}
	mu    sync.Mutex
	cache map[string]tokenAnswer
}

type tokenAnswer struct {
	token *APIToken // nil: the leader does not know it
	until time.Time
}

func newTokenLookups() tokenLookups {
	return tokenLookups{sem: make(chan struct{}, tokenLookupsInFlight), cache: map[string]tokenAnswer{}}
}

func (c *tokenLookups) get(hash string, now time.Time) (tokenAnswer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.cache[hash]
	if ok && now.After(a.until) {
		delete(c.cache, hash)
		return tokenAnswer{}, false
	}
	return a, ok
}

func (c *tokenLookups) put(hash string, t *APIToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= tokenLookupCacheSize {
		for h, a := range c.cache {
			if now.After(a.until) {
				delete(c.cache, h)
			}
		}
		if len(c.cache) >= tokenLookupCacheSize {
			clear(c.cache)
		}
	}
	c.cache[hash] = tokenAnswer{token: t, until: now.Add(tokenLookupTTL)}
}

// LookupToken returns the API token whose hash is hash (HashSecret of the
// bearer token): from the local replica, or, when this replica does not
// know it and another node leads, as the leader knows it. It fails with
// CodeNotFound when neither knows it, and with ErrUnavailable when the
// leader cannot be asked (none, unreachable, too many lookups at once).
func (f *Forwarder) LookupToken(ctx context.Context, hash string) (*APIToken, error) {
	t, err := f.store.TokenByHash(hash)
	if !errors.Is(err, ErrNotFound) || f.store.IsLeader() {
		return t, err
	}
	if checkHash("hash", hash) != nil {
		return nil, err // not a hash: no token has it
	}
	now := time.Now()
	if a, ok := f.tokens.get(hash, now); ok {
		if a.token == nil {
			return nil, err
		}
		return a.token, nil
	}
	select {
	case f.tokens.sem <- struct{}{}:
		defer func() { <-f.tokens.sem }()
	default:
		f.countLookup("busy")
		return nil, fmt.Errorf("%w: too many token lookups at the leader in flight", ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, min(tokenLookupTimeout, f.store.cfg.WriteTimeout))
	defer cancel()
	var found *APIToken
	err = f.withLeader(ctx, func(leaderID, addr string) error {
		if addr == "" { // this node has become the leader meanwhile
			t, err := f.store.TokenByHash(hash)
			found = t
			return err
		}
		w, err := f.roundTrip(ctx, leaderID, addr, forwardRequest{op: opTokenLookup, cmd: []byte(hash)})
		if err != nil {
			return err
		}
		var t APIToken
		if err := json.Unmarshal(w.Record, &t); err != nil || t.Hash != hash {
			return fmt.Errorf("%w: token lookup answered another record", ErrForwardProtocol)
		}
		found = &t
		return nil
	})
	switch {
	case err == nil:
		f.countLookup("found")
		f.tokens.put(hash, found, now)
		f.log.Info("control: API token known to the leader, not yet to this replica", "token", found.ID)
		return found, nil
	case errors.Is(err, ErrNotFound):
		f.countLookup("unknown")
		f.tokens.put(hash, nil, now)
		return nil, err
	}
	f.countLookup("unavailable")
	return nil, err
}

func (f *Forwarder) countLookup(result string) {
	if f.store.metrics != nil {
		f.store.metrics.tokenLookups.WithLabelValues(result).Inc()
	}
}
