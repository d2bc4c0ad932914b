// Command benchload is the load generator behind `make bench` (B2 and B3).
// It fetches URLs over HTTP/1.1 and reports time to first byte and to last
// byte, and, given a node's /metrics URL, how many cache fills the load
// caused.
//
//	benchload -mode cold  -urls FILE [-c 1]          every URL once (cold packaging latency)
//	benchload -mode storm -urls FILE -clients 500    all clients at once over the URLs
//
// It prints one JSON object. Every run is bounded by -timeout.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

type result struct {
	Mode         string  `json:"mode"`
	Requests     int     `json:"requests"`
	Errors       int     `json:"errors"`
	Bytes        int64   `json:"bytes"`
	TTFBp50ms    float64 `json:"ttfb_p50_ms"`
	TTFBp99ms    float64 `json:"ttfb_p99_ms"`
	TTLBp50ms    float64 `json:"ttlb_p50_ms"`
	TTLBp99ms    float64 `json:"ttlb_p99_ms"`
	WallSeconds  float64 `json:"wall_seconds"`
	Fills        float64 `json:"fills,omitempty"`
	FillsPerURL  float64 `json:"fills_per_url,omitempty"`
	DistinctURLs int     `json:"distinct_urls"`
}

type sample struct {
	ttfb, ttlb time.Duration
	n          int64
	err        error
}

func main() {
	mode := flag.String("mode", "cold", "cold: each URL once; storm: -clients requests at once spread over the URLs")
	urlsFile := flag.String("urls", "", "file with one URL per line")
	conc := flag.Int("c", 1, "concurrency in cold mode")
	clients := flag.Int("clients", 500, "clients in storm mode")
	metrics := flag.String("metrics", "", "node /metrics URL to count fills")
	timeout := flag.Duration("timeout", 5*time.Minute, "bound on the whole run")
	flag.Parse()
	urls, err := readLines(*urlsFile)
	if err != nil || len(urls) == 0 {
		fmt.Fprintf(os.Stderr, "benchload: -urls: %v (%d urls)\n", err, len(urls))
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}}
	before := fills(*metrics)
	start := time.Now()
	var samples []sample
	switch *mode {
	case "cold":
		samples = runCold(ctx, client, urls, *conc)
	case "storm":
		samples = runStorm(ctx, client, urls, *clients)
	default:
		fmt.Fprintf(os.Stderr, "benchload: unknown -mode %q\n", *mode)
		os.Exit(2)
	}
	res := summarize(*mode, samples, time.Since(start))
	res.DistinctURLs = len(urls)
	if *metrics != "" {
		res.Fills = fills(*metrics) - before
		res.FillsPerURL = res.Fills / float64(len(urls))
	}
	json.NewEncoder(os.Stdout).Encode(res)
	if res.Errors > 0 {
		os.Exit(1)
	}
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
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

func pct(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := (len(d)*p + 99) / 100
	return float64(d[min(max(i-1, 0), len(d)-1)].Microseconds()) / 1000
}

// fills sums classmesh_cache_fills_total over all sources.
func fills(url string) float64 {
	if url == "" {
		return 0
	}
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "classmesh_cache_fills_total{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}
