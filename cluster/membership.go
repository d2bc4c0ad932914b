package cluster

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/hashicorp/memberlist"
	"github.com/quic-go/quic-go"
)

// Cluster is this node's view of, and membership in, the cluster.
type Cluster struct {
	cfg       Config
	log       *slog.Logger
	id        string
	secret    string
	ca        *transport.CA
	keyring   *memberlist.Keyring
	transport *transport.Transport
	metrics   *metrics
	epoch     atomic.Uint64
	events    *eventQueue

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	ml   *memberlist.Memberlist
	meta nodeMeta
	// gossipAddr is this node's advertised gossip address, copied at Start.
	gossipAddr string
	// gossipInterval is memberlist's gossip period for the chosen profile.
	gossipInterval time.Duration
	known          map[string]*knownMember // every member seen, incl. dead and left
	leaving        leaveNotices            // members that sent a leave notice
	subs           map[int]EventHandler
	nextSub        int
	verifying      map[string]bool // members with a verifyLoop running
	probeSlots     chan struct{}   // bounds concurrent probes (verify.go)
	started        bool
	closed         bool
}

// knownMember is the last state seen of a member.
type knownMember struct {
	member Member
	since  time.Time
	// verifiedAddr is the QUIC address at which the member proved its
	// name with a cluster certificate; "" while unverified (verify.go).
	verifiedAddr string
}

// leaveAnnounceRounds is how many gossip periods Leave lets the leaving
// flag spread before the leave message.
const leaveAnnounceRounds = 10

// leaveLinger is how long Leave keeps connections open after the last
// in-flight stream finished.
const leaveLinger = 250 * time.Millisecond

// forgetAfter is how long dead and left members stay in AllMembers.
const forgetAfter = 30 * time.Minute

// New prepares a Cluster: node ID, secret, CA, keyring and transport. It
// binds nothing; call Start.
func New(cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Cluster{cfg: cfg, log: cfg.Logger, known: map[string]*knownMember{}, subs: map[int]EventHandler{},
		verifying: map[string]bool{}, probeSlots: make(chan struct{}, verifyParallel)}
	var err error
	if c.id, err = loadNodeID(cfg.NodeID, cfg.DataDir); err != nil {
		return nil, err
	}
	if c.secret, err = loadSecret(cfg.Secret, cfg.DataDir); err != nil {
		return nil, err
	}
	if c.ca, err = c.loadCA(); err != nil {
		return nil, err
	}
	if c.keyring, err = c.loadKeyring(); err != nil {
		return nil, err
	}
	if c.metrics, err = newMetrics(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("cluster: metrics: %w", err)
	}
	reset := quic.StatelessResetKey(transport.DeriveKey(c.secret, infoQUICReset+c.id, 32))
	c.transport, err = transport.New(transport.Config{
		NodeID: c.id, CA: c.ca, ResetKey: &reset, ExpectID: c.expectID,
		Logger: c.log, Registerer: cfg.Registerer,
		ProbeALPNs: []string{VerifyALPN, KeysALPN},
	})
	if err != nil {
		return nil, err
	}
	c.transport.Handle(KeysALPN, c.serveKeys)
	c.transport.Handle(VerifyALPN, serveVerify)
	c.meta = nodeMeta{ID: c.id, Roles: cfg.Roles, Region: cfg.Region, HTTPAddr: cfg.HTTPAddr, Version: cfg.Version}
	c.events = newEventQueue()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

func (c *Cluster) loadCA() (*transport.CA, error) {
	if c.cfg.TLSCA != "" {
		return transport.LoadCA(c.cfg.TLSCA, c.cfg.TLSCAKey)
	}
	return transport.DeriveCA(c.secret)
}

func (c *Cluster) loadKeyring() (*memberlist.Keyring, error) {
	keys, err := loadKeyring(c.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		keys = [][]byte{DeriveGossipKey(c.secret)}
	}
	kr, err := memberlist.NewKeyring(keys, keys[0])
	if err != nil {
		return nil, fmt.Errorf("cluster: keyring: %w", err)
	}
	return kr, nil
}

// ID returns this node's ID.
func (c *Cluster) ID() string { return c.id }

// CA returns the cluster CA in use.
func (c *Cluster) CA() *transport.CA { return c.ca }

// Transport returns the node-to-node transport.
func (c *Cluster) Transport() *transport.Transport { return c.transport }

// Epoch increments on every membership change, metadata updates included.
func (c *Cluster) Epoch() uint64 { return c.epoch.Load() }

// Start binds QUIC, starts memberlist and joins the seeds. When the first
// join attempt fails, joining continues in the background until it
// succeeds, ctx ends or Close.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.closed || c.started {
		c.mu.Unlock()
		return fmt.Errorf("cluster: start: already started or closed")
	}
	c.started = true
	c.mu.Unlock()
	if err := c.transport.Listen(c.cfg.QUICAddr); err != nil {
		return err
	}
	if ua, ok := c.transport.Addr().(*net.UDPAddr); ok && !ua.IP.IsUnspecified() {
		c.mu.Lock()
		c.meta.QUICAddr = ua.String()
		c.mu.Unlock()
	}
	mlc, err := c.memberlistConfig()
	if err != nil {
		return err
	}
	ml, err := memberlist.Create(mlc)
	if err != nil {
		return fmt.Errorf("cluster: gossip: %w", err)
	}
	c.mu.Lock()
	c.ml = ml
	local := ml.LocalNode() // safe: nothing updates it concurrently yet
	c.gossipAddr = local.Address()
	c.meta.QUICAddr = advertisedQUIC(c.transport.Addr(), local.Addr)
	c.mu.Unlock()
	if err := ml.UpdateNode(time.Second); err != nil {
		c.log.Debug("cluster: update meta", "err", err)
	}
	c.log.Info("cluster: started", "node", c.id, "gossip", c.gossipAddr,
		"quic", c.meta.QUICAddr, "ca", c.ca.Fingerprint())
	c.wg.Add(2)
	go c.dispatch()
	go c.refreshMeta()
	if len(c.cfg.Join) > 0 {
		if _, err := ml.Join(c.cfg.Join); err != nil {
			c.log.Warn("cluster: join failed, retrying in background", "seeds", c.cfg.Join, "err", err)
			c.wg.Add(1)
			go c.retryJoin(ctx)
		}
	}
	return nil
}

// memberlistConfig builds the memberlist configuration for the profile.
func (c *Cluster) memberlistConfig() (*memberlist.Config, error) {
	var mlc *memberlist.Config
	switch c.cfg.GossipProfile {
	case ProfileWAN:
		mlc = memberlist.DefaultWANConfig()
	case ProfileLocal:
		mlc = memberlist.DefaultLocalConfig()
	default:
		mlc = memberlist.DefaultLANConfig()
	}
	host, port, err := splitHostPort(c.cfg.GossipAddr)
	if err != nil {
		return nil, fmt.Errorf("cluster: gossip addr: %w", err)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	mlc.Name, mlc.BindAddr, mlc.BindPort = c.id, host, port
	mlc.AdvertisePort = port
	if c.cfg.AdvertiseAddr != "" {
		ah, ap, err := splitHostPort(c.cfg.AdvertiseAddr)
		if err != nil {
			ah, ap = c.cfg.AdvertiseAddr, port
		}
		mlc.AdvertiseAddr, mlc.AdvertisePort = ah, ap
	}
	mlc.Keyring = c.keyring
	mlc.Delegate = &delegate{c: c}
	mlc.Events = &eventDelegate{c: c}
	mlc.Logger = log.New(newGossipLog(c.log), "", 0)
	mlc.DeadNodeReclaimTime = 30 * time.Second
	c.gossipInterval = mlc.GossipInterval
	return mlc, nil
}

// splitHostPort splits "host:port" with a numeric port.
func splitHostPort(a string) (string, int, error) {
	h, p, err := net.SplitHostPort(a)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return h, n, nil
}

// advertisedQUIC is the QUIC address peers should dial: the bound address,
// with the gossip advertise IP when bound to an unspecified host.
func advertisedQUIC(bound net.Addr, gossipIP net.IP) string {
	ua, ok := bound.(*net.UDPAddr)
	if !ok {
		return bound.String()
	}
	ip := ua.IP
	if ip == nil || ip.IsUnspecified() {
		ip = gossipIP
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ua.Port))
}

// retryJoin retries joining the seeds with capped exponential back-off.
func (c *Cluster) retryJoin(ctx context.Context) {
	defer c.wg.Done()
	delay := 250 * time.Millisecond
	for attempt := 2; ; attempt++ {
		select {
		case <-ctx.Done():
			c.log.Warn("cluster: gave up joining", "seeds", c.cfg.Join, "err", ctx.Err())
			return
		case <-c.ctx.Done():
			return
		case <-time.After(delay):
		}
		n, err := c.memberlist().Join(c.cfg.Join)
		if err == nil {
			c.log.Info("cluster: joined", "seeds", c.cfg.Join, "contacted", n, "attempt", attempt)
			return
		}
		c.log.Warn("cluster: join failed", "seeds", c.cfg.Join, "attempt", attempt, "err", err)
		delay = min(delay*2, 10*time.Second)
	}
}

// memberlist returns the running memberlist (nil before Start).
func (c *Cluster) memberlist() *memberlist.Memberlist {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ml
}

// refreshMeta refreshes the load in metadata every MetaInterval.
func (c *Cluster) refreshMeta() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.MetaInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.updateMetrics()
		if c.cfg.LoadFunc == nil {
			continue
		}
		load := c.cfg.LoadFunc()
		c.mu.Lock()
		changed := load != c.meta.Load
		c.meta.Load = load
		ml := c.ml
		c.mu.Unlock()
		if changed {
			if err := ml.UpdateNode(c.cfg.MetaInterval); err != nil {
				c.log.Debug("cluster: update meta", "err", err)
			}
		}
	}
}

// Leave announces a graceful leave, waits up to timeout in total for
// in-flight incoming streams to finish, then closes.
// Leave on a closed Cluster returns ErrClosed.
func (c *Cluster) Leave(timeout time.Duration) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	deadline := time.Now().Add(timeout)
	var errs []error
	if ml := c.memberlist(); ml != nil {
		c.mu.Lock()
		c.meta.Leaving = true
		c.mu.Unlock()
		if err := ml.UpdateNode(timeout / 2); err != nil {
			c.log.Debug("cluster: announce leaving", "err", err)
		}
		c.sendLeaveNotices(ml, timeout/4)
		// Give the leaving flag a few gossip rounds to reach every member
		// before the leave message does: receivers tell a graceful leave
		// from a failure by it (memberlist does not expose "left").
		select {
		case <-time.After(min(c.gossipInterval*leaveAnnounceRounds, timeout/4)):
		case <-c.ctx.Done():
		}
		if err := ml.Leave(timeout); err != nil {
			errs = append(errs, fmt.Errorf("cluster: leave: %w", err))
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := c.transport.WaitIdle(ctx); err != nil {
		errs = append(errs, err)
	} else {
		// Linger so the last stream data and FINs reach peers before the
		// connections close; quic-go has no per-stream "all acked" signal.
		select {
		case <-ctx.Done():
		case <-time.After(leaveLinger):
		}
	}
	errs = append(errs, c.Close())
	return errors.Join(errs...)
}

// Close stops gossip and the transport at once and waits for goroutines.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	ml := c.ml
	c.mu.Unlock()
	c.cancel()
	var errs []error
	if ml != nil {
		if err := ml.Shutdown(); err != nil {
			errs = append(errs, fmt.Errorf("cluster: gossip shutdown: %w", err))
		}
	}
	errs = append(errs, c.transport.Close())
	c.events.close()
	c.wg.Wait()
	return errors.Join(errs...)
}

// Subscribe registers h for membership events until unsubscribe is called.
func (c *Cluster) Subscribe(h EventHandler) (unsubscribe func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextSub
	c.nextSub++
	c.subs[id] = h
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.subs, id)
	}
}

// expectID maps a QUIC address to the ID of the verified member that
// proved it holds it. Unverified members are ignored, so a process that
// advertises another node's address cannot make dials to it fail.
func (c *Cluster) expectID(addr string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.known {
		if k.verifiedAddr == addr && (k.member.State == StateAlive || k.member.State == StateSuspect) {
			return k.member.ID
		}
	}
	return ""
}

// sortMembers sorts by ID.
func sortMembers(ms []Member) {
	slices.SortFunc(ms, func(a, b Member) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}
