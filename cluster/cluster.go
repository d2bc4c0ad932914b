package cluster

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/classmesh/classmesh/internal/ident"
	"github.com/prometheus/client_golang/prometheus"
)

// Role is a duty a node takes in the cluster.
type Role string

// The three roles. Every node is an edge; origins hold media; control nodes
// vote in the catalog's raft group.
const (
	RoleEdge    Role = "edge"
	RoleOrigin  Role = "origin"
	RoleControl Role = "control"
)

// Gossip profiles accepted in Config.GossipProfile.
const (
	ProfileLAN   = "lan"
	ProfileWAN   = "wan"
	ProfileLocal = "local"
)

// Defaults used when the corresponding Config field is zero.
const (
	DefaultGossipAddr   = ":7946"
	DefaultQUICAddr     = ":7947"
	DefaultRegion       = "default"
	DefaultMetaInterval = 3 * time.Second
)

// Sentinel errors.
var (
	// ErrInvalidConfig is wrapped by every Config.Validate failure. It is
	// transport.ErrInvalidConfig.
	ErrInvalidConfig = transport.ErrInvalidConfig
	// ErrClosed is returned by operations on a closed Cluster or Transport.
	// It is transport.ErrClosed, so errors.Is works with either name.
	ErrClosed = transport.ErrClosed
	// ErrNotStarted is returned by operations that need Start first. It is
	// transport.ErrNotStarted.
	ErrNotStarted = transport.ErrNotStarted
)

// Config configures a Cluster. The zero value of every field except DataDir
// has a documented default.
type Config struct {
	// NodeID names this node. "" = generated once and stored in
	// DataDir/node-id. At most 64 characters of [A-Za-z0-9._-], starting with a
	// letter, a digit or '_' (internal/ident).
	NodeID string
	// DataDir is required. It holds node-id, a generated cluster-secret and
	// the gossip keyring (all mode 0600).
	DataDir string
	// GossipAddr is the memberlist bind "host:port" (TCP and UDP).
	// "" = ":7946". Port 0 picks a free port (tests use "127.0.0.1:0").
	GossipAddr string
	// AdvertiseAddr is the gossip "host[:port]" other nodes use to reach
	// this node. "" = memberlist's choice: the bind host when it is
	// specific, otherwise the first private IPv4 address of the machine.
	AdvertiseAddr string
	// QUICAddr is the UDP bind address for node-to-node traffic.
	// "" = ":7947". Port 0 picks a free port. When the host is unspecified
	// the advertised QUIC address uses the gossip advertise host.
	QUICAddr string
	// Join lists seed gossip addresses. The first attempt happens in Start;
	// when it fails, joining is retried in the background with back-off
	// until one seed answers, the Start context ends, or Close.
	Join []string
	// Roles of this node. nil = all three.
	Roles []Role
	// Region groups nodes for owner selection. "" = "default".
	Region string
	// HTTPAddr is the advertised learner-facing URL or address of this node.
	HTTPAddr string
	// Secret is the cluster secret (at least 16 characters). "" = read
	// DataDir/cluster-secret, or generate and store one there.
	Secret string
	// TLSCA and TLSCAKey are optional PEM files of an operator CA used
	// instead of the secret-derived CA. Both or neither.
	TLSCA, TLSCAKey string
	// GossipProfile selects memberlist timing: "lan" (default), "wan" or
	// "local" (loopback, fast failure detection).
	GossipProfile string
	// Version is the software version advertised in metadata.
	Version string
	// LoadFunc is called every MetaInterval to refresh the load carried in
	// metadata. nil = zero load.
	LoadFunc func() Load
	// MetaInterval is the metadata refresh period. 0 = 3 s.
	MetaInterval time.Duration
	// Logger receives the package's logs. nil = discard.
	Logger *slog.Logger
	// Registerer receives the package's metrics. nil means a private
	// registry (the metrics exist but are not exported).
	Registerer prometheus.Registerer
}

// DefaultConfig returns a Config with every default filled in except
// DataDir, which the caller must set.
func DefaultConfig() Config {
	return Config{
		GossipAddr:    DefaultGossipAddr,
		QUICAddr:      DefaultQUICAddr,
		Roles:         []Role{RoleEdge, RoleOrigin, RoleControl},
		Region:        DefaultRegion,
		GossipProfile: ProfileLAN,
		MetaInterval:  DefaultMetaInterval,
	}
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.GossipAddr = cmp.Or(c.GossipAddr, d.GossipAddr)
	c.QUICAddr = cmp.Or(c.QUICAddr, d.QUICAddr)
	if len(c.Roles) == 0 {
		c.Roles = d.Roles
	}
	c.Region = cmp.Or(c.Region, d.Region)
	c.GossipProfile = cmp.Or(c.GossipProfile, d.GossipProfile)
	c.MetaInterval = cmp.Or(max(c.MetaInterval, 0), d.MetaInterval) // negative takes the default too
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first problem with c, after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, a...))
	}
	if c.DataDir == "" {
		return bad("DataDir is required")
	}
	if c.NodeID != "" && !validNodeID(c.NodeID) {
		return bad("NodeID: %v", ident.CheckNode(c.NodeID))
	}
	for name, a := range map[string]string{"GossipAddr": c.GossipAddr, "QUICAddr": c.QUICAddr} {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return bad("%s %q: %v", name, a, err)
		}
	}
	for _, r := range c.Roles {
		if r != RoleEdge && r != RoleOrigin && r != RoleControl {
			return bad("unknown role %q", r)
		}
	}
	switch c.GossipProfile {
	case ProfileLAN, ProfileWAN, ProfileLocal:
	default:
		return bad("GossipProfile %q: want lan, wan or local", c.GossipProfile)
	}
	if c.Secret != "" && len(c.Secret) < minSecretLen {
		return bad("Secret: at least %d characters", minSecretLen)
	}
	if (c.TLSCA == "") != (c.TLSCAKey == "") {
		return bad("TLSCA and TLSCAKey must be set together")
	}
	return nil
}

// Load is a node's current load, carried in its metadata.
type Load struct {
	EgressBPS     uint64  // bytes per second currently sent to learners and peers
	CapacityBPS   uint64  // configured egress capacity; 0 = unknown
	CacheFullness float32 // 0..1
}

// Member states.
const (
	StateAlive   = "alive"
	StateSuspect = "suspect"
	StateDead    = "dead"
	StateLeft    = "left"
	// StateUnverified is a member that gossip reports alive but that has
	// not yet proved, over mutual-TLS QUIC, a cluster certificate naming
	// it (verify.go). It is given no work.
	StateUnverified = "unverified"
)

// Member is one node as seen through gossip.
type Member struct {
	ID         string
	Roles      []Role
	Region     string
	GossipAddr string // host:port of memberlist
	HTTPAddr   string
	QUICAddr   string // host:port for Transport.OpenStream
	Version    string
	Load       Load
	State      string // StateAlive, StateSuspect, StateUnverified, StateDead or StateLeft
	Self       bool
	// Leaving is set while the member drains before a graceful leave; it
	// still serves in-flight streams but should not be given new work.
	Leaving bool
	// Since is when this node last recorded an event for the member (for
	// a dead member: when it was declared dead). Zero for Self.
	Since time.Time
}

// Has reports whether m has role r.
func (m Member) Has(r Role) bool {
	for _, x := range m.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Live reports whether m may be given new work: not draining (Leaving)
// and not dead, left or unverified. Unknown states (including "") count
// as live: the membership layer drops failed members from the view
// anyway. The owner ring (cluster/ring) and Peers both use it.
func (m Member) Live() bool {
	if m.Leaving {
		return false
	}
	switch strings.ToLower(m.State) {
	case "dead", "left", "failed", "leaving", StateUnverified:
		return false
	}
	return true
}

// EventType says what happened to a member.
type EventType int

// Event types.
const (
	EventJoin   EventType = iota + 1 // a member joined
	EventUpdate                      // a member's metadata changed
	EventLeave                       // a member left gracefully
	EventFail                        // a member was declared dead
)

// String returns the lower-case name of t.
func (t EventType) String() string {
	switch t {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventLeave:
		return "leave"
	case EventFail:
		return "fail"
	}
	return fmt.Sprintf("event(%d)", int(t))
}

// Event is a membership change.
type Event struct {
	Type   EventType
	Member Member
}

// EventHandler receives membership events. All handlers are called from one
// goroutine, in order; a handler must not block long.
type EventHandler interface {
	HandleClusterEvent(Event)
}

// validNodeID reports whether id is a usable node ID: the identifier rule
// of internal/ident with at most ident.MaxNodeLen (64) bytes.
func validNodeID(id string) bool { return ident.ValidNode(id) }
