// Command catalogload drives the catalog benchmarks B6 to B8 of
// scripts/bench_catalog.sh against classmesh's catalog API and, for
// comparison, etcd's HTTP/JSON gateway, so both systems see the same
// client, payload and concurrency.
//
//	catalogload -mode write    -kind classmesh|etcd -urls A,B,C -c 64 -n 20000 -d 10s
//	catalogload -mode failover -kind classmesh|etcd -urls A,B -kill PID
//	catalogload -mode read     -urls URL -n 2000
//
// write: -c writers post sites (classmesh: POST /api/v1/sites, etcd: POST
// /v3/kv/put with the same JSON as value) round-robin over -urls until -n
// writes or -d elapse. failover: sends SIGKILL to -kill, then retries one
// write at a time over -urls until one is acknowledged and reports the
// time since the kill. read: GETs one URL -n times in sequence. Every mode
// prints one JSON object and is bounded by -timeout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

type options struct {
	mode    string
	kind    string
	urls    []string
	token   string
	conc    int
	count   int
	dur     time.Duration
	start   int
	killPID int
	reqTO   time.Duration
	timeout time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("catalogload", flag.ContinueOnError)
	fs.StringVar(&o.mode, "mode", "write", "write, failover or read")
	fs.StringVar(&o.kind, "kind", "classmesh", "target system: classmesh or etcd")
	urls := fs.String("urls", "", "comma-separated base URLs (read mode: the full URL to GET)")
	fs.StringVar(&o.token, "token", "", "bearer token for classmesh writes")
	fs.IntVar(&o.conc, "c", 64, "concurrent writers (write mode)")
	fs.IntVar(&o.count, "n", 20000, "write mode: at most this many writes; read mode: GETs")
	fs.DurationVar(&o.dur, "d", 10*time.Second, "write mode: stop after this long")
	fs.IntVar(&o.start, "start", 1, "first site number (names s<N> must be fresh)")
	fs.IntVar(&o.killPID, "kill", 0, "failover mode: process to SIGKILL when the clock starts")
	fs.DurationVar(&o.reqTO, "req-timeout", 2*time.Second, "bound on one request")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, u := range strings.Split(*urls, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			o.urls = append(o.urls, u)
		}
	}
	if len(o.urls) == 0 {
		return o, fmt.Errorf("catalogload: -urls is required")
	}
	if o.kind != "classmesh" && o.kind != "etcd" {
		return o, fmt.Errorf("catalogload: unknown -kind %q", o.kind)
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
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	w := newWriter(o.kind, o.token, o.reqTO)
	var out any
	switch o.mode {
	case "write":
		out = runWrites(ctx, w, o)
	case "failover":
		out, err = runFailover(ctx, w, o)
	case "read":
		out = runReads(ctx, w, o)
	default:
		err = fmt.Errorf("catalogload: unknown -mode %q", o.mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
	return 0
}
