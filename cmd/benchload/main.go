// Command benchload is the load generator behind `make bench` (B2 to B5).
// It fetches URLs over HTTP/1.1 and reports time to first byte and to last
// byte, and, given nodes' /metrics URLs, how many cache fills and upstream
// requests the load caused.
//
//	benchload -mode cold  -urls FILE [-c 1]          every URL once (cold packaging latency)
//	benchload -mode storm -urls FILE -clients 500    all clients at once over the URLs
//	benchload -mode peer  -urls PATHS -nodes A,B     owner-over-QUIC versus local hit (B5)
//
// -metrics takes a comma-separated list of /metrics URLs whose
// classmesh_cache_fills_total (optionally one -fill-source) is summed;
// -upstream-metrics and -upstream-log count the requests an upstream
// received during the run (B4). It prints one JSON object. Every run is
// bounded by -timeout.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
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
	// Upstream counts requests an upstream saw during the run
	// (-upstream-metrics, -upstream-log); UpstreamPerURL divides by the
	// distinct URLs (or -unique).
	Upstream       float64 `json:"upstream_requests,omitempty"`
	UpstreamPerURL float64 `json:"upstream_per_url,omitempty"`
}

type options struct {
	mode        string
	urlsFile    string
	conc        int
	clients     int
	metrics     []string
	fillSource  string
	upMetrics   []string
	upLog       string
	unique      int
	nodes       []string
	timeout     time.Duration
	scrapeDelay time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("benchload", flag.ContinueOnError)
	fs.StringVar(&o.mode, "mode", "cold", "cold: each URL once; storm: -clients requests at once spread over the URLs; peer: owner versus local latency (-nodes)")
	fs.StringVar(&o.urlsFile, "urls", "", "file with one URL per line (peer mode: one path per line)")
	fs.IntVar(&o.conc, "c", 1, "concurrency in cold mode")
	fs.IntVar(&o.clients, "clients", 500, "clients in storm mode")
	metrics := fs.String("metrics", "", "comma-separated node /metrics URLs to count fills")
	fs.StringVar(&o.fillSource, "fill-source", "", "count only fills with this source label (origin, peer); empty = all")
	up := fs.String("upstream-metrics", "", "comma-separated classmesh /metrics URLs of an upstream: count its /v/ requests")
	fs.StringVar(&o.upLog, "upstream-log", "", "upstream access log: count the lines appended during the run")
	fs.IntVar(&o.unique, "unique", 0, "distinct objects behind the URLs (default: distinct URL lines)")
	nodes := fs.String("nodes", "", "peer mode: base URLs of two nodes, the probe node first")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "bound on the whole run")
	fs.DurationVar(&o.scrapeDelay, "settle", 0, "wait this long after the load before reading counters")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.metrics, o.upMetrics, o.nodes = splitList(*metrics), splitList(*up), splitList(*nodes)
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	urls, err := readLines(o.urlsFile)
	if err != nil || len(urls) == 0 {
		fmt.Fprintf(os.Stderr, "benchload: -urls: %v (%d urls)\n", err, len(urls))
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}}
	var out any
	var errs int
	switch o.mode {
	case "cold", "storm":
		res := runLoad(ctx, client, o, urls)
		out, errs = res, res.Errors
	case "peer":
		res, err := runPeer(ctx, client, o.nodes, urls)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchload:", err)
			os.Exit(1)
		}
		out, errs = res, res.Errors
	default:
		fmt.Fprintf(os.Stderr, "benchload: unknown -mode %q\n", o.mode)
		os.Exit(2)
	}
	json.NewEncoder(os.Stdout).Encode(out)
	if errs > 0 {
		os.Exit(1)
	}
}

// runLoad runs the cold and storm modes and counts what they caused.
func runLoad(ctx context.Context, client *http.Client, o options, urls []string) result {
	sc := scraper{client: client}
	fillsBefore := sc.fills(o.metrics, o.fillSource)
	upBefore := sc.upstream(o.upMetrics) + float64(countLines(o.upLog))
	start := time.Now()
	var samples []sample
	if o.mode == "cold" {
		samples = runCold(ctx, client, urls, o.conc)
	} else {
		samples = runStorm(ctx, client, urls, o.clients)
	}
	res := summarize(o.mode, samples, time.Since(start))
	res.DistinctURLs = distinct(urls)
	unique := res.DistinctURLs
	if o.unique > 0 {
		unique = o.unique
	}
	time.Sleep(o.scrapeDelay)
	if len(o.metrics) > 0 {
		res.Fills = sc.fills(o.metrics, o.fillSource) - fillsBefore
		res.FillsPerURL = res.Fills / float64(unique)
	}
	if len(o.upMetrics) > 0 || o.upLog != "" {
		res.Upstream = sc.upstream(o.upMetrics) + float64(countLines(o.upLog)) - upBefore
		res.UpstreamPerURL = res.Upstream / float64(unique)
	}
	return res
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

// countLines counts the lines of a file; 0 when path is empty or missing.
func countLines(path string) int {
	if path == "" {
		return 0
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

func distinct(urls []string) int {
	seen := make(map[string]struct{}, len(urls))
	for _, u := range urls {
		seen[u] = struct{}{}
	}
	return len(seen)
}
