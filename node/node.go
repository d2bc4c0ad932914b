// Package node is the composition root of a classmesh node: it builds every
// part (origin, VOD library, cache, player, metrics) from one Config, starts
// them in order, serves the learner-facing HTTP front door (HTTP/1.1, HTTP/2
// and, with TLS, HTTP/3) and stops everything in reverse order on Close.
//
// A newcomer should be able to read a request from routes.go outwards: the
// routes map URLs to the methods of small handler types that node builds
// once, each holding the few parts it needs as fields (never a *Node):
// vodMedia (media.go: playlists, init and media segments), assetAPI
// (api.go, api_catalog.go: JSON), clusterAPI (api_cluster.go: operator
// endpoints), liveParts (live.go: LL-HLS), peerAssist (p2p.go: the
// tracker) and readiness (ready.go: /readyz); every media read passes the
// access gate, mediaAccess (access.go). Media segments come from one owner,
// node/internal/segsource (cache → ring owner → origin), which segments.go
// wires to the cluster's ring and fill protocol.
//
// Before any route, limits.go caps connections per node and per address and
// cuts clients that stall a request body or a response. Every answer is
// written by internal/httpx: plain-text errors, JSON, the one /api/v1 error
// body, and bodies with ETag and Range (internal/httprange).
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/quic-go/quic-go/http3"

	"github.com/classmesh/classmesh/cache"
	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/fill"
	"github.com/classmesh/classmesh/cluster/ring"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/node/internal/segsource"
	"github.com/classmesh/classmesh/node/origin"
	"github.com/classmesh/classmesh/node/origin/remote"
	"github.com/classmesh/classmesh/node/vod"
	"github.com/classmesh/classmesh/p2p"
)

// Node is one running classmesh node.
type Node struct {
	cfg    Config
	logger *slog.Logger

	registry *prometheus.Registry
	metrics  *httpMetrics
	origin   vod.Origin
	remote   bool // origin is the cluster's origin-role members
	library  *vod.Library
	cache    *cache.Cache

	cluster      *cluster.Cluster
	ring         *ring.RingKeeper
	segments     *segsource.Source // the one owner of VOD segments (segments.go)
	fillServer   *fill.FillServer
	originServer *remote.Server
	unsubscribe  func()

	catalog     *control.Store
	raftLayer   *cluster.RaftLayer // raft's network; the catalog owns and closes it
	forwarder   *control.Forwarder
	membership  *control.Membership // raft membership follows gossip
	sites       *control.SiteView   // the tracker's sites (p2p.go)
	jobs        *catalogJobs        // the node's catalog chores (catalogjobs.go)
	assetsDirty atomic.Bool         // the library changed since the catalog heard
	mediaAccess mediaAccess
	refreshCh   chan struct{}
	egress      egressMeter

	handler  http.Handler
	limits   *connLimits // caps and minimum rates (limits.go)
	listener net.Listener
	server   *http.Server
	debug    *http.Server // --debug-addr pprof, or nil
	admin    *adminGuard  // admin token check of operator endpoints (admin.go)
	adminLn  net.Listener // --admin-http, or nil
	adminSrv *http.Server // serves adminLn, or nil
	tracker  *p2p.Tracker // /p2p/ws, or nil with --p2p off
	peers    *peerAssist  // the tracker's glue (p2p.go)
	live     *liveParts   // live sessions, relay, RTMP ingest
	closing  atomic.Bool  // set when Close starts

	h3  *http3.Server
	udp net.PacketConn

	tmpDir  string
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closeMu sync.Mutex
	closed  bool

	readiness *readiness // what /readyz waits for (ready.go)
}

// New builds a node from cfg without starting it.
func New(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	n := &Node{cfg: cfg, logger: cfg.Logger, registry: prometheus.NewRegistry(), refreshCh: make(chan struct{}, 1)}
	n.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n.metrics = newHTTPMetrics(n.registry, &n.egress)
	n.mediaAccess.refusals = newAccessRefusals(n.registry)
	n.mediaAccess.logger = n.logger
	n.admin = newAdminGuard(n)
	n.limits = newConnLimits(limitsConfig{
		MaxConns:   cfg.HTTPMaxConns,
		MaxPerAddr: cfg.HTTPMaxConnsPerAddr,
		MinRate:    cfg.HTTPMinRate,
		Grace:      cfg.HTTPRateGrace,
	}, n.registry, n.logger)
	if err := n.build(); err != nil {
		n.closeParts()
		return nil, err
	}
	return n, nil
}

// build creates the parts in dependency order.
func (n *Node) build() error {
	cfg := n.cfg
	if cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "classmesh-")
		if err != nil {
			return fmt.Errorf("node: data dir: %w", err)
		}
		n.tmpDir, n.cfg.DataDir, cfg.DataDir = dir, dir, dir
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("node: data dir: %w", err)
	}
	// Bind the HTTP port first: other nodes learn this node's URL from
	// gossip metadata.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("node: listen %s: %w", cfg.HTTPAddr, err)
	}
	n.listener = ln
	if err := n.buildCluster(); err != nil {
		return err
	}
	o, err := n.buildOrigin()
	if err != nil {
		return err
	}
	if o, err = n.recordingsOrigin(o); err != nil {
		return err
	}
	n.origin = o
	n.library, err = vod.New(vod.Config{
		SegmentTarget: cfg.SegmentTarget,
		IndexPath:     filepath.Join(cfg.DataDir, "index.db"),
		Logger:        n.logger.With("part", "vod"),
		Registerer:    n.registry,
	}, o)
	if err != nil {
		return fmt.Errorf("node: vod library: %w", err)
	}
	cc := cache.Config{
		MemoryBytes: cfg.MemoryCacheBytes,
		DiskBytes:   cfg.DiskCacheBytes,
		Logger:      n.logger.With("part", "cache"),
		Registerer:  n.registry,
		FillTimeout: cfg.OriginTimeout,
	}
	if cfg.DiskCacheBytes > 0 {
		cc.Dir = filepath.Join(cfg.DataDir, "cache")
	} else {
		cc.DiskBytes = 0 // no disk tier
	}
	n.cache, err = cache.New(cc)
	if err != nil {
		return fmt.Errorf("node: cache: %w", err)
	}
	n.readiness = newReadiness(n)
	n.peers = &peerAssist{library: n.library}
	if err := n.buildTracker(); err != nil {
		return fmt.Errorf("node: p2p tracker: %w", err)
	}
	if err := n.buildLive(); err != nil {
		return err
	}
	return n.buildFill()
}

func (n *Node) buildOrigin() (vod.Origin, error) {
	cfg := n.cfg
	switch {
	case cfg.OriginURL != "":
		return origin.NewHTTP(origin.HTTPConfig{
			BaseURL: cfg.OriginURL,
			Timeout: cfg.OriginTimeout,
			Logger:  n.logger.With("part", "origin"),
		})
	case cfg.MediaDir != "":
		return origin.NewDir(cfg.MediaDir, n.logger.With("part", "origin"))
	case cfg.Demo:
		dir, err := DemoDir()
		if err != nil {
			return nil, err
		}
		n.cfg.MediaDir = dir
		return origin.NewDir(dir, n.logger.With("part", "origin"))
	}
	// An edge with no media of its own packages the media of the
	// cluster's origin-role members, read over QUIC.
	n.remote = true
	ro, err := n.buildRemoteOrigin()
	if err != nil {
		return nil, err
	}
	return ro, nil
}

// Start indexes the library, joins the cluster and serves until Close.
// ctx bounds the start only. After a failed Start, call Close.
func (n *Node) Start(ctx context.Context) error {
	if !n.remote {
		if err := n.library.Refresh(ctx); err != nil {
			return fmt.Errorf("node: index %s: %w", n.origin, err)
		}
		n.readiness.noteListing(nil)
	}
	// The cluster keeps retrying --join in the background for as long as
	// the node runs, not just while Start's ctx lives.
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	if err := n.cluster.Start(runCtx); err != nil {
		return fmt.Errorf("node: cluster: %w", err)
	}
	if err := n.openCatalog(); err != nil {
		return err
	}
	n.readiness.catalog = n.catalog
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.readiness.catchUpCatalog(runCtx, n.forwarder)
	}()
	n.jobs = &catalogJobs{catalog: n.catalog, forwarder: n.forwarder, library: n.library,
		registers: !n.remote && n.cluster.Self().Has(cluster.RoleOrigin),
		dataDir:   n.cfg.DataDir, dirty: &n.assetsDirty, logger: n.logger}
	n.assetsDirty.Store(true)
	if n.catalog.Voter() && len(n.cfg.Join) == 0 && n.cfg.BootstrapExpect <= 1 {
		// A lone node leads at once; create the first admin token now so
		// that it can be shown when the node starts.
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := n.catalog.WaitLeader(wctx); err == nil {
			n.jobs.ensureAdminToken(wctx)
		}
		cancel()
	}
	if n.tracker != nil {
		if err := n.tracker.Start(runCtx); err != nil {
			return fmt.Errorf("node: p2p tracker: %w", err)
		}
	}
	if err := n.startLive(runCtx); err != nil {
		return err
	}
	n.handler = n.routes()
	if err := n.startDebug(); err != nil {
		return err
	}
	if err := n.startAdmin(); err != nil {
		return err
	}
	if err := n.membership.Start(runCtx); err != nil {
		return fmt.Errorf("node: catalog: %w", err)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.jobs.loop(runCtx)
	}()
	// No ReadTimeout or WriteTimeout: they would cut long uploads,
	// downloads on thin links and blocking playlist requests alike. The
	// listener caps connections and the rate rule (limits.go) cuts clients
	// that stall.
	ln := limitListener{Listener: n.listener, l: n.limits}
	handler := n.limits.limitRequests(n.handler)
	n.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: n.cfg.HTTPReadHeaderTimeout,
		IdleTimeout:       n.cfg.HTTPIdleTimeout,
		MaxHeaderBytes:    DefaultHTTPMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(n.logger.Handler(), slog.LevelDebug),
	}
	if n.cfg.TLSCert != "" {
		if err := n.startTLS(ln, handler); err != nil {
			return err
		}
	} else {
		n.goServe(func() error { return n.server.Serve(ln) })
	}
	n.wg.Add(1)
	go n.rescanLoop(runCtx)
	if n.remote {
		n.requestRefresh()
	}
	n.readiness.started.Store(true)
	n.logger.Info("node serving", "url", n.URL(), "origin", n.origin.String(),
		"assets", len(n.library.Assets()), "data", n.cfg.DataDir)
	return nil
}

func (n *Node) startTLS(ln net.Listener, handler http.Handler) error {
	cert, err := tls.LoadX509KeyPair(n.cfg.TLSCert, n.cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("node: tls: %w", err)
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	udp, err := net.ListenPacket("udp", n.listener.Addr().String())
	if err != nil {
		return fmt.Errorf("node: http3 listen: %w", err)
	}
	n.udp = udp
	n.h3 = &http3.Server{
		Handler:   handler,
		TLSConfig: http3.ConfigureTLSConfig(tlsCfg.Clone()),
		Port:      n.listener.Addr().(*net.TCPAddr).Port,
	}
	n.server.TLSConfig = tlsCfg
	n.server.Handler = altSvc(n.h3.Port, handler)
	n.goServe(func() error { return n.server.ServeTLS(ln, "", "") })
	n.goServe(func() error { return n.h3.Serve(udp) })
	return nil
}

// altSvc advertises HTTP/3 on port (UDP) on responses sent over TCP. The
// header is fixed here rather than asked of the http3.Server, which knows
// it only once its Serve goroutine runs: the first responses after start
// would go out without it.
func altSvc(port int, next http.Handler) http.Handler {
	value := fmt.Sprintf(`h3=":%d"; ma=2592000`, port)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor < 3 {
			w.Header().Set("Alt-Svc", value)
		}
		next.ServeHTTP(w, r)
	})
}

func (n *Node) goServe(serve func() error) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			n.logger.Error("node: server stopped", "err", err)
		}
	}()
}

// rescanLoop lists the origin again every RescanInterval and whenever
// requestRefresh asks (an origin-role member joined or left).
func (n *Node) rescanLoop(ctx context.Context) {
	defer n.wg.Done()
	var tick <-chan time.Time
	if n.cfg.RescanInterval > 0 {
		t := time.NewTicker(n.cfg.RescanInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-n.refreshCh:
		}
		err := n.library.Refresh(ctx)
		if err != nil && ctx.Err() == nil {
			n.logger.Warn("node: rescan failed", "origin", n.origin.String(), "err", err)
		}
		n.readiness.noteListing(err)
		n.assetsDirty.Store(true)
	}
}

// requestRefresh asks rescanLoop for a rescan without blocking.
func (n *Node) requestRefresh() {
	select {
	case n.refreshCh <- struct{}{}:
	default:
	}
}

// URL is the base URL of the HTTP front door ("http://127.0.0.1:8080").
func (n *Node) URL() string {
	if n.listener == nil {
		return ""
	}
	scheme := "http"
	if n.cfg.TLSCert != "" {
		scheme = "https"
	}
	addr := n.listener.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

// DataDir is the node's data directory.
func (n *Node) DataDir() string { return n.cfg.DataDir }

// Addr is the HTTP listener's address.
func (n *Node) Addr() net.Addr { return n.listener.Addr() }

// Library exposes the VOD library (tests, benchmarks).
func (n *Node) Library() *vod.Library { return n.library }

// Cache exposes the segment cache (tests, benchmarks).
func (n *Node) Cache() *cache.Cache { return n.cache }

// Close stops serving, waits for in-flight requests (bounded) and closes
// every part in reverse order. It is safe to call more than once.
func (n *Node) Close() error {
	n.closeMu.Lock()
	defer n.closeMu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	n.closing.Store(true)
	if n.readiness != nil {
		n.readiness.started.Store(false)
	}
	var errs []error
	// Live first: publishers and relay subscribers go before the catalog.
	if err := n.closeLive(); err != nil {
		errs = append(errs, err)
	}
	// Hand raft leadership over and stop raft first (its streams would
	// hold the graceful leave open), then announce the leave so other
	// nodes stop routing fills here, and let in-flight transfers finish.
	if err := n.closeCatalog(); err != nil {
		errs = append(errs, err)
	}
	if n.cluster != nil && n.cancel != nil {
		if err := n.cluster.Leave(n.cfg.LeaveTimeout); err != nil && !errors.Is(err, cluster.ErrClosed) {
			n.logger.Warn("node: graceful leave", "err", err)
		}
	}
	if n.cancel != nil {
		n.cancel()
	}
	if n.debug != nil {
		_ = n.debug.Close()
	}
	if n.adminSrv != nil {
		_ = n.adminSrv.Close()
	}
	if n.tracker != nil {
		// Upgraded WebSockets are not covered by the HTTP shutdown.
		if err := n.tracker.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if n.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := n.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("node: http shutdown: %w", err))
		}
		cancel()
	}
	if n.h3 != nil {
		errs = append(errs, n.h3.Close())
	}
	if n.udp != nil {
		n.udp.Close()
	}
	n.wg.Wait()
	errs = append(errs, n.closeParts())
	return errors.Join(errs...)
}

func (n *Node) closeParts() error {
	var errs []error
	if n.unsubscribe != nil {
		n.unsubscribe()
	}
	if n.fillServer != nil {
		errs = append(errs, n.fillServer.Close())
	}
	if n.originServer != nil {
		errs = append(errs, n.originServer.Close())
	}
	if n.cluster != nil {
		if err := n.cluster.Close(); err != nil && !errors.Is(err, cluster.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if n.listener != nil {
		n.listener.Close() // already closed by Shutdown unless never served
	}
	if n.cache != nil {
		errs = append(errs, n.cache.Close())
	}
	if n.library != nil {
		errs = append(errs, n.library.Close())
	}
	if c, ok := n.origin.(interface{ Close() error }); ok {
		errs = append(errs, c.Close())
	}
	if n.tmpDir != "" {
		errs = append(errs, os.RemoveAll(n.tmpDir))
	}
	return errors.Join(errs...)
}
