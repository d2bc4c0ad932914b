package node

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/classmesh/classmesh/cluster"
)

// Config configures a node. The zero value of every field has a documented
// meaning; DefaultConfig fills in the defaults explicitly.
type Config struct {
	// DataDir holds the cache, the sample index and other node state.
	// Empty means a temporary directory removed on Close (tests, demos).
	DataDir string

	// HTTPAddr is the address of the learner-facing HTTP server.
	// Empty means ":8080". Use "127.0.0.1:0" in tests.
	HTTPAddr string

	// MediaDir is a local media library served as origin (see
	// node/origin for the layout). Empty means none.
	MediaDir string
	// OriginURL is the same layout on an HTTP server that honours Range
	// requests. Mutually exclusive with MediaDir.
	OriginURL string
	// Demo serves the demo course shipped in the repository
	// (testdata/media). When MediaDir is empty, Demo sets it to the demo
	// directory found by DemoDir.
	Demo bool

	// TLSCert and TLSKey are PEM files. When both are set the HTTP server
	// speaks HTTPS with HTTP/2 and also serves HTTP/3 on the same port
	// (UDP), advertised with Alt-Svc.
	TLSCert string
	TLSKey  string

	// SegmentTarget is the target segment duration. Zero means 6 s.
	SegmentTarget time.Duration

	// MemoryCacheBytes is the memory tier's budget. Zero means 256 MiB;
	// negative disables the memory tier.
	MemoryCacheBytes int64
	// DiskCacheBytes is the disk tier's budget. Zero means 10 GiB;
	// negative disables the disk tier.
	DiskCacheBytes int64

	// OriginTimeout bounds one origin fill (packaging one segment).
	// Zero means 20 s.
	OriginTimeout time.Duration

	// RescanInterval is how often the origin is listed again to pick up
	// new, changed and removed assets. Zero means 1 minute; negative
	// disables rescans.
	RescanInterval time.Duration

	// Cluster membership and node-to-node transport (see cluster.Config,
	// whose zero values apply). A node alone is a cluster of one.

	// NodeID names the node; empty means generated once and kept in
	// DataDir/cluster/node-id.
	NodeID string
	// GossipAddr is the memberlist bind address (TCP and UDP). Empty
	// means ":7946".
	GossipAddr string
	// AdvertiseAddr is the gossip address other nodes use to reach this
	// one. Empty means derived from GossipAddr.
	AdvertiseAddr string
	// QUICAddr is the UDP address for node-to-node traffic (fills, origin
	// reads, key rotation). Empty means ":7947".
	QUICAddr string
	// Join lists gossip addresses of nodes to join, retried with back-off.
	Join []string
	// Roles of this node; nil means edge, origin and control.
	Roles []cluster.Role
	// Region groups nodes; fills prefer an owner in the same region.
	// Empty means "default".
	Region string
	// ClusterSecret derives the gossip key and the node-to-node CA. Empty
	// means read or generate DataDir/cluster/cluster-secret.
	ClusterSecret string
	// TLSCA and TLSCAKey name an operator CA (PEM) to use instead of the
	// secret-derived one.
	TLSCA, TLSCAKey string
	// GossipProfile is "lan" (default), "wan" or "local".
	GossipProfile string
	// CapacityBPS is the egress capacity in bit/s advertised for bounded
	// load owner selection. Zero means unknown (load is not bounded).
	CapacityBPS uint64
	// PeerTimeout bounds the wait for the first byte from a segment's
	// owner before this node fills from the origin itself. Zero means 2 s.
	PeerTimeout time.Duration
	// LeaveTimeout bounds the graceful leave on Close: announce, then
	// wait for in-flight transfers. Zero means 10 s.
	LeaveTimeout time.Duration
	// BootstrapExpect starts a new catalog only once this many
	// control-role members are alive (3 or 5 recommended). Zero or one
	// means a node that joins nobody bootstraps the catalog alone.
	BootstrapExpect int
	// RaftReapTimeout is how long a dead member stays in the raft
	// configuration before the leader removes it (a graceful leave
	// removes it at once). Zero means 10 minutes.
	RaftReapTimeout time.Duration
	// Version is advertised to other nodes.
	Version string
	// P2P is the peer-assistance policy for viewers in no catalog site:
	// "on" (share segments), "download-only" (take from peers, never
	// upload) or "off" (no tracker at /p2p/ws). Empty means "on". Sites in
	// the catalog carry their own policy.
	P2P string
	// P2PMaxPeers is how many peers a viewer is connected to. Zero means
	// the tracker's default (3).
	P2PMaxPeers int
	// P2PSpikePeers puts a swarm of at least this many viewers in spike
	// mode (wider peer windows). Zero means the tracker's default;
	// negative disables.
	P2PSpikePeers int
	// P2PSpikeEgress puts every swarm in spike mode while the node serves
	// at least this many bytes per second of segments. Zero means the
	// tracker's default; negative disables.
	P2PSpikeEgress int64
	// P2PCrossGroup pairs viewers outside any site across /24 (/48)
	// networks within the region. False pairs them only inside their
	// network prefix.
	P2PCrossGroup bool
	// RTMPAddr is where origin-role nodes accept RTMP publishers. Empty
	// means ":1935" (skipped with a warning when that port is taken);
	// "off" disables ingest.
	RTMPAddr string
	// CatalogMaxBatch is how many concurrent catalog writes the raft
	// leader may put into one log entry. Zero means 256; 1 turns batching
	// off (needed while a rolling upgrade still runs voters from before
	// batching, which cannot read batch entries).
	CatalogMaxBatch int
	// RelayParent is the node id or QUIC address of the node this one
	// subscribes to live tracks through, instead of the ingest node (a
	// relay tree). Empty means the ingest node, or the region's relay node
	// when the ingest node is in another region.
	RelayParent string
	// LivePartTarget, LiveSegmentTarget, LiveDVRWindow and LiveGrace tune
	// live packaging: CMAF part and segment targets, the window live
	// viewers can seek in, and how long a session waits for its publisher
	// to reconnect. Zero means 500 ms, 2 s, 60 s and 30 s.
	LivePartTarget    time.Duration
	LiveSegmentTarget time.Duration
	LiveDVRWindow     time.Duration
	LiveGrace         time.Duration
	// DebugAddr, when set, serves Go's net/http/pprof profiles on a
	// separate listener (e.g. "127.0.0.1:6060"). Empty means off. Never
	// expose it beyond the host: profiles reveal memory contents.
	DebugAddr string
	// AdminHTTPAddr is the admin listener: operator endpoints
	// (/api/v1/cluster/*, /api/v1/raft/*, /metrics, /debug/pprof/). Empty
	// means "127.0.0.1:7948" when that port is free (skipped with a
	// warning otherwise, so several nodes can share a machine); "off"
	// disables it. On a loopback address it needs no token; on any other
	// address it asks for an admin API token like the public listener.
	AdminHTTPAddr string

	// HTTP limits against clients that hold connections without using
	// them (see limits.go and docs/security.md).
	//
	// HTTPReadHeaderTimeout bounds reading a request's headers. Zero
	// means 10 s.
	HTTPReadHeaderTimeout time.Duration
	// HTTPIdleTimeout closes a keep-alive connection idle this long.
	// Zero means 1 minute.
	HTTPIdleTimeout time.Duration
	// HTTPMinRate is the slowest a client may send a request body or take
	// a response, in bytes per second, once HTTPRateGrace of stalling is
	// used up. Only time blocked on the client counts. Zero means 8 KiB/s
	// (64 kbit/s); negative disables the rule.
	HTTPMinRate int64
	// HTTPRateGrace is the longest a client may stall a body or a
	// response, and the credit a client moving at HTTPMinRate keeps.
	// Zero means 10 s.
	HTTPRateGrace time.Duration
	// HTTPMaxConns caps open HTTP connections. When it is reached, the
	// address with the most connections gives up its oldest one to a
	// newcomer from an address with at least two fewer; otherwise the
	// newcomer is closed at accept. Zero means three quarters of the open-file limit
	// (unlimited when that is unknown); negative means no cap.
	HTTPMaxConns int
	// HTTPMaxConnsPerAddr caps open HTTP connections from one IPv4
	// address or IPv6 /64. A campus NAT puts many learners behind one
	// address (each browser holds up to six HTTP/1.1 connections, one
	// with HTTP/2), so the cap is generous. Zero means a quarter of
	// HTTPMaxConns (no cap when HTTPMaxConns has none); negative means no
	// cap.
	HTTPMaxConnsPerAddr int
	// RTMPPublishTimeout bounds the time from accepting an RTMP
	// connection to its publish command being accepted. Zero means 15 s.
	RTMPPublishTimeout time.Duration
	// RTMPMaxConns caps open RTMP connections (when full, the oldest one
	// not publishing yet makes room). Zero means 1024, or an eighth of the
	// open-file limit when that is smaller (HTTP takes three quarters).
	RTMPMaxConns int
	// RTMPMaxPendingPerAddr caps RTMP connections from one IPv4 address
	// or IPv6 /64 that are not publishing yet. Zero means 8; negative
	// means no cap.
	RTMPMaxPendingPerAddr int

	// Logger receives structured logs. Nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every default spelled out.
func DefaultConfig() Config {
	return Config{
		HTTPAddr:         ":8080",
		SegmentTarget:    6 * time.Second,
		MemoryCacheBytes: 256 << 20,
		DiskCacheBytes:   10 << 30,
		OriginTimeout:    20 * time.Second,
		RescanInterval:   time.Minute,
		PeerTimeout:      2 * time.Second,
		LeaveTimeout:     10 * time.Second,
		RaftReapTimeout:  10 * time.Minute,
		P2P:              "on",

		HTTPReadHeaderTimeout: DefaultHTTPReadHeaderTimeout,
		HTTPIdleTimeout:       DefaultHTTPIdleTimeout,
		HTTPMinRate:           DefaultHTTPMinRate,
		HTTPRateGrace:         DefaultHTTPRateGrace,
	}
}

// Errors returned by Validate.
var ErrConfig = errors.New("node: invalid config")

// withDefaults returns c with zero values replaced by defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.HTTPAddr = cmp.Or(c.HTTPAddr, d.HTTPAddr)
	c.SegmentTarget = cmp.Or(c.SegmentTarget, d.SegmentTarget)
	c.MemoryCacheBytes = cmp.Or(c.MemoryCacheBytes, d.MemoryCacheBytes) // negative: no memory tier
	c.DiskCacheBytes = cmp.Or(c.DiskCacheBytes, d.DiskCacheBytes)       // negative: no disk tier
	c.OriginTimeout = cmp.Or(c.OriginTimeout, d.OriginTimeout)
	c.RescanInterval = cmp.Or(c.RescanInterval, d.RescanInterval) // negative: no rescans
	c.PeerTimeout = cmp.Or(c.PeerTimeout, d.PeerTimeout)
	c.LeaveTimeout = cmp.Or(c.LeaveTimeout, d.LeaveTimeout)
	c.RaftReapTimeout = cmp.Or(c.RaftReapTimeout, d.RaftReapTimeout)
	c.P2P = cmp.Or(c.P2P, d.P2P)
	c.HTTPReadHeaderTimeout = cmp.Or(c.HTTPReadHeaderTimeout, d.HTTPReadHeaderTimeout)
	c.HTTPIdleTimeout = cmp.Or(c.HTTPIdleTimeout, d.HTTPIdleTimeout)
	c.HTTPMinRate = cmp.Or(c.HTTPMinRate, d.HTTPMinRate) // negative: no minimum-rate rule
	c.HTTPRateGrace = cmp.Or(c.HTTPRateGrace, d.HTTPRateGrace)
	if c.HTTPMaxConns == 0 {
		c.HTTPMaxConns = fdLimit() * 3 / 4 // 0 (no cap) when unknown
	}
	if fds := fdLimit(); c.RTMPMaxConns == 0 && fds > 0 {
		c.RTMPMaxConns = min(1024, max(fds/8, 16))
	}
	if c.HTTPMaxConnsPerAddr == 0 && c.HTTPMaxConns > 0 {
		c.HTTPMaxConnsPerAddr = max(c.HTTPMaxConns/4, 1)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports the first problem with c, wrapping ErrConfig.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			return bad("--http %q: %v", c.HTTPAddr, err)
		}
	}
	switch c.P2P {
	case "", "on", "off", "download-only":
	default:
		return bad("--p2p %q: want on, off or download-only", c.P2P)
	}
	if c.MediaDir != "" && c.OriginURL != "" {
		return bad("--media and --origin-url are mutually exclusive")
	}
	if c.Demo && c.OriginURL != "" {
		return bad("--demo and --origin-url are mutually exclusive")
	}
	if c.MediaDir != "" {
		st, err := os.Stat(c.MediaDir)
		if err != nil {
			return bad("--media: %v", err)
		}
		if !st.IsDir() {
			return bad("--media %q is not a directory", c.MediaDir)
		}
	}
	if c.OriginURL != "" {
		u, err := url.Parse(c.OriginURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("--origin-url %q: want an http:// or https:// URL", c.OriginURL)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return bad("--tls-cert and --tls-key must be given together")
	}
	if c.SegmentTarget < 0 || (c.SegmentTarget > 0 && c.SegmentTarget < time.Second) || c.SegmentTarget > time.Minute {
		return bad("--segment-target %v: want between 1s and 1m", c.SegmentTarget)
	}
	for _, r := range c.Roles {
		if r != cluster.RoleEdge && r != cluster.RoleOrigin && r != cluster.RoleControl {
			return bad("--roles: unknown role %q (want edge, origin, control)", r)
		}
	}
	if c.AdminHTTPAddr != "" && c.AdminHTTPAddr != "off" {
		if _, _, err := net.SplitHostPort(c.AdminHTTPAddr); err != nil {
			return bad("--admin-http %q: %v", c.AdminHTTPAddr, err)
		}
	}
	if c.BootstrapExpect < 0 {
		return bad("--bootstrap-expect %d is negative", c.BootstrapExpect)
	}
	if c.RTMPMaxConns < 0 {
		return bad("--rtmp-max-conns %d is negative", c.RTMPMaxConns)
	}
	if c.HTTPReadHeaderTimeout < 0 || c.HTTPIdleTimeout < 0 || c.HTTPRateGrace < 0 || c.RTMPPublishTimeout < 0 {
		return bad("HTTP and RTMP timeouts must not be negative")
	}
	if c.HTTPMinRate > 0 && c.HTTPRateGrace > 0 && float64(c.HTTPMinRate)*c.HTTPRateGrace.Seconds() < 4096 {
		return bad("--http-min-rate %d with --http-rate-grace %v: a client may stall for less than 4 KiB", c.HTTPMinRate, c.HTTPRateGrace)
	}
	if c.OriginTimeout < 0 {
		return bad("--origin-timeout %v is negative", c.OriginTimeout)
	}
	return nil
}

// DemoDir finds the demo media library (testdata/media) by looking in the
// working directory, next to the executable and in their parents.
func DemoDir() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	if env := os.Getenv("CLASSMESH_DEMO_DIR"); env != "" {
		starts = append([]string{}, env)
		if st, err := os.Stat(filepath.Join(env, "demo")); err == nil && st.IsDir() {
			return env, nil
		}
	}
	for _, s := range starts {
		for dir := s; ; dir = filepath.Dir(dir) {
			cand := filepath.Join(dir, "testdata", "media")
			if st, err := os.Stat(filepath.Join(cand, "demo")); err == nil && st.IsDir() {
				return cand, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("node: demo media not found: run from the repository (testdata/media/demo) or set CLASSMESH_DEMO_DIR")
}
