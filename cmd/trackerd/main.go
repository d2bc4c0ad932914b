// Command trackerd runs a bare p2p tracker for the B10 capacity benchmark
// (scripts/bench_p2p.sh) when no classmesh node with /p2p/ws is at hand:
// /p2p/ws, /metrics and /healthz on -addr, with the per-address limits
// off (the load comes from a few loopback addresses). It prints its PID
// and address, and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/classmesh/classmesh/p2p"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18490", "listen address")
	limits := flag.Bool("limits", false, "keep the default per-address limits")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6061)")
	flag.Parse()
	if *pprofAddr != "" {
		go func() { _ = http.ListenAndServe(*pprofAddr, nil) }() // DefaultServeMux has pprof
	}
	if err := run(*addr, *limits); err != nil {
		fmt.Fprintln(os.Stderr, "trackerd:", err)
		os.Exit(1)
	}
}

func run(addr string, limits bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	cfg := p2p.DefaultConfig()
	cfg.Registerer = reg
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if !limits {
		cfg.MaxConnsPerAddr, cfg.ConnectRate = -1, -1
	}
	tr, err := p2p.NewTracker(cfg)
	if err != nil {
		return err
	}
	if err := tr.Start(ctx); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/p2p/ws", tr)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("trackerd pid %d listening on %s\n", os.Getpid(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if cerr := tr.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
