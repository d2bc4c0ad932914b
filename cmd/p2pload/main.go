// Command p2pload is the tracker capacity load generator behind B10
// (scripts/bench_p2p.sh). It opens -peers WebSocket clients to a classmesh
// tracker, spreading them over many loopback source addresses (-src) to
// avoid ephemeral port exhaustion, joins them to a few swarms, sends have
// and want periodically for -duration, and prints one JSON object with the
// connected count and the errors seen.
//
//	go run ./cmd/p2pload -url ws://127.0.0.1:8080/p2p/ws -peers 20000 \
//	    -src 127.0.0.2-127.0.0.50 -swarms 4 -duration 60s
//
// With -ready FILE it writes FILE once every peer is connected (or failed),
// so a script can measure the server while the load holds. Every run is
// bounded by -timeout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.url, "url", "ws://127.0.0.1:8080/p2p/ws", "tracker WebSocket URL")
	flag.IntVar(&o.peers, "peers", 1000, "peers to connect")
	flag.StringVar(&o.src, "src", "", "source IPv4 range for the clients, e.g. 127.0.0.2-127.0.0.50 (empty: default)")
	flag.IntVar(&o.swarms, "swarms", 4, "swarms to spread the peers over (vod/load{i}/v720)")
	swarmList := flag.String("swarm-list", "", "comma-separated swarm ids to use instead of vod/load{i}/v720 (a node only accepts swarms it serves)")
	flag.Float64Var(&o.rate, "rate", 1000, "connects per second (all peers)")
	flag.IntVar(&o.dialers, "dialers", 256, "concurrent connection attempts")
	flag.DurationVar(&o.interval, "interval", 10*time.Second, "have/want period per peer")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long to hold the peers after connecting")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound on the whole run")
	flag.StringVar(&o.ready, "ready", "", "file written when the connect phase ends")
	flag.Parse()
	if *swarmList != "" {
		o.swarmList = strings.Split(*swarmList, ",")
	}
	if err := o.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "p2pload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "p2pload:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(res)
}
