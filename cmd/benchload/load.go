package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"slices"
	"sync"
	"time"
)

type sample struct {
	ttfb, ttlb time.Duration
	n          int64
	err        error
}

func fetch(ctx context.Context, client *http.Client, url string) sample {
	var first time.Time
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	if err != nil {
		return sample{err: err}
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return sample{err: err}
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", url, resp.Status)
	}
	return sample{ttfb: first.Sub(start), ttlb: time.Since(start), n: n, err: err}
}

func runCold(ctx context.Context, client *http.Client, urls []string, conc int) []sample {
	out := make([]sample, len(urls))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(conc, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = fetch(ctx, client, urls[i])
			}
		}()
	}
	for i := range urls {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func runStorm(ctx context.Context, client *http.Client, urls []string, clients int) []sample {
	out := make([]sample, clients)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			out[i] = fetch(ctx, client, urls[i%len(urls)])
		}()
	}
	close(gate)
	wg.Wait()
	return out
}

func summarize(mode string, samples []sample, wall time.Duration) result {
	res := result{Mode: mode, Requests: len(samples), WallSeconds: wall.Seconds()}
	var ttfb, ttlb []time.Duration
	for _, s := range samples {
		if s.err != nil {
			res.Errors++
			fmt.Fprintln(os.Stderr, "benchload:", s.err)
			continue
		}
		res.Bytes += s.n
		ttfb = append(ttfb, s.ttfb)
		ttlb = append(ttlb, s.ttlb)
	}
	res.TTFBp50ms, res.TTFBp99ms = pct(ttfb, 50), pct(ttfb, 99)
	res.TTLBp50ms, res.TTLBp99ms = pct(ttlb, 50), pct(ttlb, 99)
	return res
}

// pct returns the p-th percentile (nearest rank) of d in milliseconds; it
// sorts d.
func pct(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := (len(d)*p + 99) / 100
	return float64(d[min(max(i-1, 0), len(d)-1)].Microseconds()) / 1000
}
