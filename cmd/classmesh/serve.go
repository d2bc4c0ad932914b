package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/node"
)

// serveFlags binds the serve flags to a node.Config. Every flag can also be
// given as CLASSMESH_<NAME> (dashes as underscores) or in a JSON config file
// (--config) with the flag names as keys; flags win over the environment,
// which wins over the file.
func serveFlags(fs *flag.FlagSet, cfg *node.Config, logLevel, logFormat, configFile *string) {
	fs.StringVar(configFile, "config", "", "JSON config file; keys are flag names (e.g. {\"http\": \":8080\"})")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (cache, index); empty = a temporary directory")
	fs.StringVar(&cfg.HTTPAddr, "http", cfg.HTTPAddr, "HTTP listen address for learners and the API")
	fs.StringVar(&cfg.P2P, "p2p", cfg.P2P, "peer assistance for viewers in no catalog site: on, download-only or off (no tracker)")
	fs.IntVar(&cfg.P2PMaxPeers, "p2p-max-peers", cfg.P2PMaxPeers, "peers each viewer is connected to (0 = 3)")
	fs.IntVar(&cfg.P2PSpikePeers, "p2p-spike-peers", cfg.P2PSpikePeers, "swarm size that starts spike mode, wider peer windows (0 = default, negative = never)")
	fs.Int64Var(&cfg.P2PSpikeEgress, "p2p-spike-egress", cfg.P2PSpikeEgress, "segment egress in bytes/s that starts spike mode on every swarm (0 = default, negative = never)")
	fs.BoolVar(&cfg.P2PCrossGroup, "p2p-cross-group", cfg.P2PCrossGroup, "pair viewers outside any site across network prefixes within the region")
	fs.StringVar(&cfg.RTMPAddr, "rtmp", cfg.RTMPAddr, "RTMP ingest address on origin-role nodes (empty = :1935 if free; off = no ingest)")
	fs.IntVar(&cfg.CatalogMaxBatch, "catalog-max-batch", cfg.CatalogMaxBatch, "catalog writes the raft leader may put into one log entry (0 = 256; 1 = no batching, for rolling upgrades from before batching)")
	fs.StringVar(&cfg.RelayParent, "relay-parent", cfg.RelayParent, "node id or QUIC address to subscribe to live tracks through (relay tree)")
	fs.DurationVar(&cfg.LivePartTarget, "live-part-target", cfg.LivePartTarget, "LL-HLS part target duration (0 = 500ms)")
	fs.DurationVar(&cfg.LiveSegmentTarget, "live-segment-target", cfg.LiveSegmentTarget, "live segment target, cut on keyframes (0 = 2s)")
	fs.DurationVar(&cfg.LiveDVRWindow, "live-dvr-window", cfg.LiveDVRWindow, "how far back live viewers can seek (0 = 60s)")
	fs.DurationVar(&cfg.LiveGrace, "live-grace", cfg.LiveGrace, "how long a live session waits for its publisher to reconnect (0 = 30s)")
	fs.StringVar(&cfg.AdminHTTPAddr, "admin-http", cfg.AdminHTTPAddr, "admin listener for /api/v1/cluster/*, /api/v1/raft/*, /metrics and pprof (empty = 127.0.0.1:7948 if free; off = none; a non-loopback address needs the admin token)")
	fs.Int64Var(&cfg.HTTPMinRate, "http-min-rate", cfg.HTTPMinRate, "slowest a client may send a request body or take a response, in bytes/s, once --http-rate-grace of stalling is used up (negative = no rule)")
	fs.DurationVar(&cfg.HTTPRateGrace, "http-rate-grace", cfg.HTTPRateGrace, "longest a client may stall a request body or a response")
	fs.DurationVar(&cfg.HTTPIdleTimeout, "http-idle-timeout", cfg.HTTPIdleTimeout, "close keep-alive HTTP connections idle this long")
	fs.IntVar(&cfg.HTTPMaxConns, "http-max-conns", cfg.HTTPMaxConns, "open HTTP connections at most (0 = three quarters of the open-file limit, negative = no cap)")
	fs.IntVar(&cfg.HTTPMaxConnsPerAddr, "http-max-conns-per-addr", cfg.HTTPMaxConnsPerAddr, "open HTTP connections per IPv4 address or IPv6 /64 (0 = a quarter of --http-max-conns, negative = no cap)")
	fs.DurationVar(&cfg.RTMPPublishTimeout, "rtmp-publish-timeout", cfg.RTMPPublishTimeout, "an RTMP connection must be publishing this long after connecting (0 = 15s)")
	fs.IntVar(&cfg.RTMPMaxConns, "rtmp-max-conns", cfg.RTMPMaxConns, "open RTMP connections; when full, the oldest not yet publishing makes room (0 = 1024, or an eighth of the open-file limit if smaller)")
	fs.IntVar(&cfg.RTMPMaxPendingPerAddr, "rtmp-max-pending-per-addr", cfg.RTMPMaxPendingPerAddr, "RTMP connections not publishing yet per IPv4 address or IPv6 /64 (0 = 8, negative = no cap)")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", cfg.DebugAddr, "serve Go pprof profiles on this address (e.g. 127.0.0.1:6060); empty = off")
	fs.StringVar(&cfg.MediaDir, "media", cfg.MediaDir, "local media library to serve as origin (subdirectory = asset)")
	fs.StringVar(&cfg.OriginURL, "origin-url", cfg.OriginURL, "media library on an HTTP server that honours Range requests")
	fs.BoolVar(&cfg.Demo, "demo", cfg.Demo, "serve the demo course shipped in testdata/media")
	fs.StringVar(&cfg.TLSCert, "tls-cert", cfg.TLSCert, "TLS certificate (PEM); with --tls-key enables HTTPS, HTTP/2 and HTTP/3")
	fs.StringVar(&cfg.TLSKey, "tls-key", cfg.TLSKey, "TLS private key (PEM)")
	fs.DurationVar(&cfg.SegmentTarget, "segment-target", cfg.SegmentTarget, "target segment duration (segments are cut on keyframes)")
	fs.Int64Var(&cfg.MemoryCacheBytes, "cache-memory", cfg.MemoryCacheBytes, "memory cache budget in bytes (negative = off)")
	fs.Int64Var(&cfg.DiskCacheBytes, "cache-disk", cfg.DiskCacheBytes, "disk cache budget in bytes (negative = off)")
	fs.DurationVar(&cfg.OriginTimeout, "origin-timeout", cfg.OriginTimeout, "time limit for packaging one segment from the origin")
	fs.DurationVar(&cfg.RescanInterval, "rescan", cfg.RescanInterval, "how often to look for new or changed media (negative = never)")
	fs.StringVar(&cfg.NodeID, "node-id", cfg.NodeID, "node name in the cluster (default: generated once, kept in the data dir)")
	fs.StringVar(&cfg.GossipAddr, "gossip", cfg.GossipAddr, "gossip (memberlist) bind address, TCP and UDP (default :7946)")
	fs.StringVar(&cfg.AdvertiseAddr, "advertise", cfg.AdvertiseAddr, "gossip address other nodes use to reach this one (default: derived)")
	fs.StringVar(&cfg.QUICAddr, "quic", cfg.QUICAddr, "node-to-node QUIC address, UDP (default :7947)")
	fs.Func("join", "comma-separated gossip addresses of nodes to join (retried until one answers)", func(v string) error {
		cfg.Join = splitList(v)
		return nil
	})
	fs.Func("roles", "comma-separated roles: edge, origin, control (default all three)", func(v string) error {
		cfg.Roles = nil
		for _, r := range splitList(v) {
			cfg.Roles = append(cfg.Roles, cluster.Role(r))
		}
		return nil
	})
	fs.StringVar(&cfg.Region, "region", cfg.Region, "region name; segment owners are chosen in the requester's region first")
	fs.StringVar(&cfg.ClusterSecret, "cluster-secret", cfg.ClusterSecret, "cluster secret: derives the gossip key and node-to-node TLS trust (default: generated and kept in the data dir)")
	fs.StringVar(&cfg.TLSCA, "tls-ca", cfg.TLSCA, "operator CA certificate (PEM) for node-to-node TLS instead of the secret-derived CA")
	fs.StringVar(&cfg.TLSCAKey, "tls-ca-key", cfg.TLSCAKey, "private key (PEM) of --tls-ca, used to issue this node's certificate")
	fs.StringVar(&cfg.GossipProfile, "gossip-profile", cfg.GossipProfile, "gossip timing: lan, wan or local (default lan)")
	fs.Uint64Var(&cfg.CapacityBPS, "capacity", cfg.CapacityBPS, "egress capacity in bit/s, for load-bounded owner selection (0 = unknown)")
	fs.DurationVar(&cfg.PeerTimeout, "peer-timeout", cfg.PeerTimeout, "wait this long for a segment's owner before filling from the origin")
	fs.IntVar(&cfg.BootstrapExpect, "bootstrap-expect", cfg.BootstrapExpect, "first start of a catalog with N voters: wait until N control-role members are alive")
	fs.DurationVar(&cfg.RaftReapTimeout, "raft-reap-timeout", cfg.RaftReapTimeout, "remove a dead member from the catalog's raft group after this long")
	fs.StringVar(logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(logFormat, "log-format", "text", "log format: text or json")
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := node.DefaultConfig()
	var logLevel, logFormat, configFile string
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serveFlags(fs, &cfg, &logLevel, &logFormat, &configFile)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: classmesh serve [flags]\n\nRuns a classmesh node. Every flag can also be set as CLASSMESH_<FLAG> (e.g. CLASSMESH_MEDIA=/srv/lectures) or in the --config file.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "classmesh serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := applyFileAndEnv(fs, configFile); err != nil {
		fmt.Fprintf(stderr, "classmesh serve: %v\n", err)
		return 2
	}
	logger, err := newLogger(stderr, logLevel, logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "classmesh serve: %v\n", err)
		return 2
	}
	cfg.Logger = logger
	cfg.Version = version
	return runNode(ctx, cfg, stdout, logger)
}

// runNode runs a node until ctx ends, an interrupt or SIGTERM.
func runNode(ctx context.Context, cfg node.Config, stdout io.Writer, logger *slog.Logger) int {
	n, err := node.New(cfg)
	if err != nil {
		logger.Error("cannot build node", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := n.Start(ctx); err != nil {
		logger.Error("cannot start node", "err", err)
		n.Close()
		return 1
	}
	fmt.Fprintf(stdout, "classmesh is serving at %s/\n", n.URL())
	if u := n.AdminURL(); u != "" {
		fmt.Fprintf(stdout, "classmesh admin listener at %s/\n", u)
	}
	if tok := n.AdminToken(); tok != "" {
		fmt.Fprintf(stdout, "\nFirst start of this catalog: the admin API token is\n\n    %s\n\nIt is shown only now and kept in %s (mode 0600).\n\n", tok, filepath.Join(n.DataDir(), "admin-token"))
	}
	for _, a := range n.Library().Assets() {
		fmt.Fprintf(stdout, "  %-12s %-7s %s/watch/%s\n", a.ID, a.Status, n.URL(), a.ID)
	}
	<-ctx.Done()
	logger.Info("shutting down")
	done := make(chan error, 1)
	go func() { done <- n.Close() }()
	select {
	case err := <-done:
		if err != nil {
			logger.Error("shutdown", "err", err)
			return 1
		}
	case <-time.After(30 * time.Second):
		logger.Error("shutdown took longer than 30s; exiting")
		return 1
	}
	return 0
}

// applyFileAndEnv sets flags that were not given on the command line from
// CLASSMESH_* variables and then from the config file.
func applyFileAndEnv(fs *flag.FlagSet, configFile string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if configFile == "" {
		configFile = os.Getenv("CLASSMESH_CONFIG")
	}
	fileValues := map[string]any{}
	if configFile != "" {
		b, err := os.ReadFile(configFile)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&fileValues); err != nil {
			return fmt.Errorf("config %s: %w", configFile, err)
		}
		for k := range fileValues {
			if fs.Lookup(k) == nil || k == "config" {
				return fmt.Errorf("config %s: unknown key %q", configFile, k)
			}
		}
	}
	var firstErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "config" || firstErr != nil {
			return
		}
		env := "CLASSMESH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				firstErr = fmt.Errorf("%s=%q: %w", env, v, err)
			}
			return
		}
		if v, ok := fileValues[f.Name]; ok {
			if err := fs.Set(f.Name, fmt.Sprint(v)); err != nil {
				firstErr = fmt.Errorf("config %s: %q: %w", configFile, f.Name, err)
			}
		}
	})
	return firstErr
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
