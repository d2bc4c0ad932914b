// Command liveload drives the live benchmarks B11 and B12 of
// scripts/bench_live.sh (which documents the method).
//
//	liveload -mode b11 -nodes ingest=URL,hop1=URL,hop2=URL -nginx URL -ffmpeg-start FILE -d 35s
//	liveload -mode b12 -ingest URL -edge URL -viewers 1000 -pid PID -d 30s
//
// URLs name a video rendition (http://host/live/{session}/video); -nginx
// names nginx-rtmp's playlist. b11 follows every node's playlist with
// LL-HLS blocking reloads, records when each part is first listed, reads
// its media end from the part's moof, and reports latency = listed −
// (capture base + media end) per node, the hop overhead between nodes, and
// the same for nginx-rtmp's segments (polled). b12 runs -viewers LL-HLS
// viewers on -edge and observers on -ingest and -edge; it reports the
// edge's CPU, part delivery after the part was listed on the ingest, and
// the hop overhead. Both print one JSON object; both are bounded by -d.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

type options struct {
	mode     string
	nodes    []namedURL
	nginx    string
	ffStart  string
	ingest   string
	edge     string
	viewers  int
	ramp     time.Duration
	pid      int
	dur      time.Duration
	interval time.Duration
}

type namedURL struct{ name, url string }

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("liveload", flag.ContinueOnError)
	fs.StringVar(&o.mode, "mode", "b11", "b11 (latency per hop) or b12 (viewers on one edge)")
	nodes := fs.String("nodes", "", "b11: name=URL,... video rendition bases; the first is the ingest")
	fs.StringVar(&o.nginx, "nginx", "", "b11: nginx-rtmp playlist URL (optional)")
	fs.StringVar(&o.ffStart, "ffmpeg-start", "", "b11: file holding ffmpeg's start wall clock (Unix seconds)")
	fs.DurationVar(&o.interval, "poll", 50*time.Millisecond, "b11: nginx playlist polling interval")
	fs.StringVar(&o.ingest, "ingest", "", "b12: ingest video rendition base")
	fs.StringVar(&o.edge, "edge", "", "b12: edge video rendition base")
	fs.IntVar(&o.viewers, "viewers", 1000, "b12: concurrent LL-HLS viewers")
	fs.DurationVar(&o.ramp, "ramp", 2*time.Second, "b12: viewers start spread over this")
	fs.IntVar(&o.pid, "pid", 0, "b12: edge process id (CPU from /proc)")
	fs.DurationVar(&o.dur, "d", 30*time.Second, "how long to measure")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, kv := range strings.Split(*nodes, ",") {
		if name, url, ok := strings.Cut(kv, "="); ok {
			o.nodes = append(o.nodes, namedURL{name, strings.TrimRight(url, "/")})
		}
	}
	switch {
	case o.mode == "b11" && len(o.nodes) == 0:
		return o, fmt.Errorf("liveload: b11 needs -nodes")
	case o.mode == "b12" && (o.ingest == "" || o.edge == "" || o.viewers < 1):
		return o, fmt.Errorf("liveload: b12 needs -ingest, -edge and -viewers ≥ 1")
	case o.mode != "b11" && o.mode != "b12":
		return o, fmt.Errorf("liveload: unknown -mode %q", o.mode)
	}
	return o, nil
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	o, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// Blocking reloads are held up to 3 target durations: allow for that.
	tr := &http.Transport{MaxIdleConnsPerHost: o.viewers + 64, MaxConnsPerHost: o.viewers + 64,
		DisableCompression: true, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), o.dur)
	defer cancel()
	var out any
	if o.mode == "b11" {
		out, err = runB11(ctx, client, o)
	} else {
		out, err = runB12(ctx, client, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
	return 0
}
