package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrStatus reports a write or read answered with a non-2xx status.
var ErrStatus = errors.New("catalogload: unexpected status")

// writer issues one catalog write or read against classmesh or etcd.
type writer struct {
	kind   string
	token  string
	client *http.Client
}

func newWriter(kind, token string, reqTimeout time.Duration) *writer {
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	return &writer{kind: kind, token: token, client: &http.Client{Transport: tr, Timeout: reqTimeout}}
}

// siteJSON is the classmesh site document for site n; etcd stores the same
// bytes as the value of key s<n>, so both sides move the same payload.
func siteJSON(n int) []byte {
	return fmt.Appendf(nil, `{"name":"s%d","cidrs":["10.0.0.0/8"],"p2p_policy":"on"}`, n)
}

// request builds the write of site n against base.
func (w *writer) request(ctx context.Context, base string, n int) (*http.Request, error) {
	body, path := siteJSON(n), "/api/v1/sites"
	if w.kind == "etcd" {
		key := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "s%d", n))
		val := base64.StdEncoding.EncodeToString(body)
		body, path = fmt.Appendf(nil, `{"key":%q,"value":%q}`, key, val), "/v3/kv/put"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if w.token != "" && w.kind == "classmesh" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	return req, nil
}

// write posts site n to base and returns nil once it is acknowledged (2xx).
func (w *writer) write(ctx context.Context, base string, n int) error {
	req, err := w.request(ctx, base, n)
	if err != nil {
		return err
	}
	return w.do(req)
}

func (w *writer) get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if w.token != "" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	return w.do(req)
}

func (w *writer) do(req *http.Request) error {
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %s %s: %d", ErrStatus, req.Method, req.URL.Path, resp.StatusCode)
	}
	return nil
}

// writeResult is the JSON of write mode.
type writeResult struct {
	Kind         string  `json:"kind"`
	Writers      int     `json:"writers"`
	Writes       int     `json:"writes"`
	Errors       int     `json:"errors"`
	FirstError   string  `json:"first_error,omitempty"`
	WallSeconds  float64 `json:"wall_seconds"`
	WritesPerSec float64 `json:"writes_per_sec"`
	P50ms        float64 `json:"p50_ms"`
	P99ms        float64 `json:"p99_ms"`
}

// runWrites runs o.conc writers until o.count writes were issued or o.dur
// passed; writer i sends to o.urls[i % len].
func runWrites(ctx context.Context, w *writer, o options) writeResult {
	ctx, cancel := context.WithTimeout(ctx, o.dur)
	defer cancel()
	var next, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.conc {
		wg.Add(1)
		go func(base string) {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				k := int(next.Add(1))
				if k > o.count {
					break
				}
				t := time.Now()
				err := w.write(ctx, base, o.start+k-1)
				if err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
						mu.Lock()
						firstErr = cmp(firstErr, err)
						mu.Unlock()
					}
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(o.urls[i%len(o.urls)])
	}
	wg.Wait()
	wall := time.Since(start)
	res := writeResult{Kind: w.kind, Writers: o.conc, Writes: len(lat), Errors: int(errs.Load()), WallSeconds: wall.Seconds()}
	res.WritesPerSec = float64(len(lat)) / wall.Seconds()
	res.P50ms, res.P99ms = percentileMS(lat, 0.50), percentileMS(lat, 0.99)
	if firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	return res
}

func cmp(have, err error) error {
	if have != nil {
		return have
	}
	return err
}

// failoverResult is the JSON of failover mode.
type failoverResult struct {
	Kind       string  `json:"kind"`
	Killed     int     `json:"killed_pid"`
	Attempts   int     `json:"attempts"`
	RecoveryMS float64 `json:"recovery_ms"`
	AckedBy    string  `json:"acked_by"`
}

// attemptGap separates the start of write attempts in failover mode.
// Attempts overlap (each is bounded by -req-timeout), so a request stuck
// on the dead leader does not delay the next one and the measured time is
// not quantised by the request timeout.
const attemptGap = 10 * time.Millisecond

// runFailover kills o.killPID and measures the time to the first
// acknowledged write, starting a new attempt every attemptGap, round-robin
// over o.urls.
func runFailover(ctx context.Context, w *writer, o options) (failoverResult, error) {
	res := failoverResult{Kind: w.kind, Killed: o.killPID}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	if o.killPID > 0 {
		if err := syscall.Kill(o.killPID, syscall.SIGKILL); err != nil {
			return res, fmt.Errorf("catalogload: kill %d: %w", o.killPID, err)
		}
	}
	acked := make(chan string, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(attemptGap)
	defer tick.Stop()
	for i := 0; ; i++ {
		base := o.urls[i%len(o.urls)]
		res.Attempts++
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			if w.write(ctx, base, n) == nil {
				select {
				case acked <- base:
				default:
				}
			}
		}(o.start + i)
		select {
		case res.AckedBy = <-acked:
			res.RecoveryMS = ms(time.Since(start))
			return res, nil
		case <-ctx.Done():
			return res, fmt.Errorf("catalogload: no write acknowledged after %d attempts: %w", res.Attempts, ctx.Err())
		case <-tick.C:
		}
	}
}

// readResult is the JSON of read mode.
type readResult struct {
	URL    string  `json:"url"`
	Reads  int     `json:"reads"`
	Errors int     `json:"errors"`
	P50ms  float64 `json:"p50_ms"`
	P99ms  float64 `json:"p99_ms"`
}

// runReads GETs o.urls[0] o.count times, one at a time.
func runReads(ctx context.Context, w *writer, o options) readResult {
	res := readResult{URL: o.urls[0]}
	lat := make([]time.Duration, 0, o.count)
	for range o.count {
		if ctx.Err() != nil {
			break
		}
		t := time.Now()
		if err := w.get(ctx, o.urls[0]); err != nil {
			res.Errors++
			continue
		}
		lat = append(lat, time.Since(t))
	}
	res.Reads = len(lat)
	res.P50ms, res.P99ms = percentileMS(lat, 0.50), percentileMS(lat, 0.99)
	return res
}

// percentileMS returns the q-quantile (nearest rank) of d in milliseconds;
// 0 for no samples. It sorts d.
func percentileMS(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(q*float64(len(d))+0.999999) - 1
	i = max(0, min(i, len(d)-1))
	return ms(d[i])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
