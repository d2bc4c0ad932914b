package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	swarm "github.com/classmesh/classmesh/p2p/viewers"
)

const swarmUsage = `Usage:
  classmesh swarm --url URL --peers N --duration D [--downlink RATE] [--uplink RATE]
                  [--rendition NAME] [--p2p=false] [--malicious N] [--json]

Runs N headless viewers of URL (a master or media playlist on an edge) for
D, each playing at the stream's bit rate with its own bandwidth caps and
sharing segments with the others over WebRTC as the edge's tracker
directs. Prints offload (bytes from peers / all segment bytes), stalls and
stall time, startup times (p50/p95) and peers connected; --json prints one
JSON object. RATE is like 5mbit, 500kbit or 1gbit. Run it again with
--p2p=false to compare with plain HTTP.

Flags:
`

// runSwarm is "classmesh swarm".
func runSwarm(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("swarm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	u := fs.String("url", "", "master or media playlist URL on an edge (required)")
	peers := fs.Int("peers", 10, "number of emulated viewers")
	duration := fs.Duration("duration", time.Minute, "how long to run")
	downlink := fs.String("downlink", "", "per-viewer download cap, e.g. 5mbit (default unlimited)")
	uplink := fs.String("uplink", "", "per-viewer upload cap, e.g. 1mbit (default unlimited)")
	rendition := fs.String("rendition", "", "rendition name (default: the one nearest the downlink cap)")
	p2pOn := fs.Bool("p2p", true, "share segments between viewers (false: HTTP only)")
	malicious := fs.Int("malicious", 0, "viewers that corrupt every segment they serve")
	asJSON := fs.Bool("json", false, "print one JSON object")
	tracker := fs.String("tracker", "", "tracker WebSocket URL (default ws(s)://HOST/p2p/ws of --url)")
	buffer := fs.Duration("buffer", swarm.DefaultBufferTarget, "how far ahead each viewer fetches")
	store := fs.Int64("store-mib", swarm.DefaultStoreBytes>>20, "segment memory per viewer, MiB")
	ramp := fs.Duration("ramp", 0, "spread the viewers' joins over this long (default 100ms per viewer, at most 20s)")
	verbose := fs.Bool("v", false, "log diagnostics to stderr")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), swarmUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitParse(err)
	}
	if fs.NArg() > 0 || *u == "" {
		fs.Usage()
		return 2
	}
	down, err := swarm.ParseRate(*downlink)
	if err != nil {
		fmt.Fprintln(stderr, "classmesh swarm: --downlink:", err)
		return 2
	}
	up, err := swarm.ParseRate(*uplink)
	if err != nil {
		fmt.Fprintln(stderr, "classmesh swarm: --uplink:", err)
		return 2
	}
	cfg := swarm.Config{
		URL: *u, Peers: *peers, Duration: *duration, DownlinkBitsPerSec: down, UplinkBitsPerSec: up,
		Rendition: *rendition, P2P: *p2pOn, Malicious: *malicious, TrackerURL: *tracker,
		BufferTarget: *buffer, StoreBytes: *store << 20, JoinSpread: *ramp,
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "classmesh swarm:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := swarm.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "classmesh swarm:", err)
		return 1
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "classmesh swarm:", err)
		return 1
	}
	return 0
}
