package control

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Membership makes raft's configuration follow the cluster's gossip, the
// way the policy in DESIGN.md ("Membership") says:
//
//   - only the leader changes the configuration;
//   - a member alive and verified (MemberAlive, not leaving) with a raft
//     address, seen so for JoinDelay, is added: a voter when it has the
//     control role, a non-voter otherwise;
//   - a member in raft that left, is leaving, or has been dead for longer
//     than ReapTimeout is removed;
//   - suspect and unverified members are neither added nor removed: a
//     member that has not proved a cluster certificate naming it never
//     enters raft (issue 11);
//   - with BootstrapExpect N > 1, a node with no raft state waits for N
//     voters (alive or suspect, with a raft address, itself included) and
//     the one with the lowest id bootstraps the first N in id order; the
//     others are contacted by it.
//
// Invariant: every decision reads the member list and raft's
// configuration afresh on each pass, so a pass that fails half-way is
// simply redone by the next one.
type Membership struct {
	raft raftMembership
	cfg  MembershipConfig

	firstSeen map[string]time.Time // when a member was first seen addable; pass goroutine only

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// MemberState is the state of a cluster member as gossip reports it.
type MemberState int

// Member states. The zero value is not a state: a member must be given one.
const (
	// MemberAlive is alive in gossip and verified: it proved, over mutual
	// TLS, a cluster certificate naming it.
	MemberAlive MemberState = iota + 1
	// MemberSuspect is verified and suspected of failure by gossip.
	MemberSuspect
	// MemberUnverified is alive in gossip but has not proved its
	// identity; it is given no work and never enters raft.
	MemberUnverified
	// MemberDead is declared dead by gossip since Member.Since.
	MemberDead
	// MemberLeft left the cluster gracefully.
	MemberLeft
)

var memberStateNames = [...]string{"", "alive", "suspect", "unverified", "dead", "left"}

func (s MemberState) String() string {
	if s > 0 && int(s) < len(memberStateNames) {
		return memberStateNames[s]
	}
	return fmt.Sprintf("MemberState(%d)", int(s))
}

// Member is one cluster member as Membership sees it.
type Member struct {
	// ID is the node id, which is also its raft server id.
	ID string
	// RaftAddr is the address raft dials it at (the node's QUIC address);
	// a member without one is never added nor counted for bootstrap.
	RaftAddr string
	// Voter: the member has the control role; it joins raft as a voter
	// and counts for BootstrapExpect. Others replicate as non-voters.
	Voter bool
	// State is its gossip state.
	State MemberState
	// Leaving: it announced a graceful leave; it is removed at once.
	Leaving bool
	// Since is when State last changed; for a dead member, the start of
	// ReapTimeout.
	Since time.Time
}

// Members lists the members of the cluster as gossip sees them, this
// node included, with every state (not only the live ones). The node
// adapts its cluster.Cluster.
type Members interface {
	Members() []Member
}

// raftMembership is what Membership reads and changes in raft; *Store
// implements it (tests fake it).
type raftMembership interface {
	IsLeader() bool
	Stats() (Stats, error)
	AddVoter(id, addr string) error
	AddNonvoter(id, addr string) error
	RemoveServer(id string) error
	BootstrapCluster(servers []Server) error
}

var _ raftMembership = (*Store)(nil)

// Defaults of MembershipConfig.
const (
	DefaultJoinDelay          = 3 * time.Second
	DefaultReapTimeout        = 10 * time.Minute
	DefaultMembershipInterval = time.Second
)

// ErrNoMembers is returned by NewMembership without MembershipConfig.Members.
var ErrNoMembers = errors.New("control: membership: Members is required")

// MembershipConfig configures a Membership.
type MembershipConfig struct {
	// Members lists the cluster's members. Required.
	Members Members
	// BootstrapExpect N > 1 bootstraps a new catalog once N voters are
	// in gossip (see Membership). Zero or 1: never (a lone node
	// bootstraps itself with Config.Bootstrap; joiners are added by the
	// leader).
	BootstrapExpect int
	// JoinDelay is how long a member must be seen alive before it is
	// added. Zero means DefaultJoinDelay (3s).
	JoinDelay time.Duration
	// ReapTimeout is how long a dead member stays in raft before the
	// leader removes it (longer than a reboot). Zero means
	// DefaultReapTimeout (10 minutes).
	ReapTimeout time.Duration
	// Interval is the pause between passes. Zero means
	// DefaultMembershipInterval (1s).
	Interval time.Duration
	// Now is the clock of JoinDelay and ReapTimeout; nil means time.Now.
	Now func() time.Time
	// Logger receives the additions, removals and failures; nil discards
	// them.
	Logger *slog.Logger
}

// NewMembership returns the membership reconciler of store. It starts
// nothing: Start runs the passes, Close stops them.
func NewMembership(store *Store, cfg MembershipConfig) (*Membership, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: membership: no store", ErrBadConfig)
	}
	return newMembership(store, cfg)
}

func newMembership(r raftMembership, cfg MembershipConfig) (*Membership, error) {
	if cfg.Members == nil {
		return nil, ErrNoMembers
	}
	if cfg.BootstrapExpect < 0 || cfg.JoinDelay < 0 || cfg.ReapTimeout < 0 || cfg.Interval < 0 {
		return nil, fmt.Errorf("%w: membership: negative BootstrapExpect or duration", ErrBadConfig)
	}
	cfg.JoinDelay = cmp.Or(cfg.JoinDelay, DefaultJoinDelay)
	cfg.ReapTimeout = cmp.Or(cfg.ReapTimeout, DefaultReapTimeout)
	cfg.Interval = cmp.Or(cfg.Interval, DefaultMembershipInterval)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Membership{raft: r, cfg: cfg, firstSeen: map[string]time.Time{}}, nil
}

// Start runs a pass every Interval until ctx ends or Close. It fails if
// already started.
func (m *Membership) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done != nil {
		return errors.New("control: membership: already started")
	}
	ctx, m.cancel = context.WithCancel(ctx)
	m.done = make(chan struct{})
	go m.run(ctx, m.done)
	return nil
}

// Close stops the passes and waits for the one running. It is
// idempotent and safe without Start.
func (m *Membership) Close() error {
	m.mu.Lock()
	cancel, done := m.cancel, m.done
	m.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

func (m *Membership) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := m.pass(); err != nil && ctx.Err() == nil {
			m.cfg.Logger.Warn("control: raft membership", "err", err)
		}
	}
}

// pass is one round: bootstrap-expect, then, on the leader, additions and
// removals.
func (m *Membership) pass() error {
	if m.cfg.BootstrapExpect > 1 {
		m.bootstrapExpected()
	}
	if !m.raft.IsLeader() {
		return nil
	}
	return m.reconcile()
}

// reconcile adds and removes members (leader only; raft refuses the
// changes elsewhere).
func (m *Membership) reconcile() error {
	st, err := m.raft.Stats()
	if err != nil {
		return err
	}
	now := m.cfg.Now()
	var errs []error
	for _, mb := range m.cfg.Members.Members() {
		inRaft := slices.Contains(st.Voters, mb.ID) || slices.Contains(st.Nonvoters, mb.ID)
		switch {
		case mb.ID == st.NodeID:
		case mb.State == MemberAlive && !mb.Leaving: // verified (not MemberUnverified)
			if inRaft || mb.RaftAddr == "" {
				continue
			}
			if _, ok := m.firstSeen[mb.ID]; !ok {
				m.firstSeen[mb.ID] = now
			}
			if now.Sub(m.firstSeen[mb.ID]) < m.cfg.JoinDelay {
				continue
			}
			add, kind := m.raft.AddNonvoter, "non-voter"
			if mb.Voter {
				add, kind = m.raft.AddVoter, "voter"
			}
			if err := add(mb.ID, mb.RaftAddr); err != nil {
				errs = append(errs, fmt.Errorf("add %s %s: %w", kind, mb.ID, err))
				continue
			}
			m.cfg.Logger.Info("control: raft member added", "id", mb.ID, "as", kind)
		case inRaft && (mb.State == MemberLeft || mb.Leaving ||
			(mb.State == MemberDead && now.Sub(mb.Since) > m.cfg.ReapTimeout)):
			delete(m.firstSeen, mb.ID)
			if err := m.raft.RemoveServer(mb.ID); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", mb.ID, err))
				continue
			}
			m.cfg.Logger.Info("control: raft member removed", "id", mb.ID, "state", mb.State.String(), "leaving", mb.Leaving)
		}
	}
	return errors.Join(errs...)
}

// bootstrapExpected starts a fresh catalog with BootstrapExpect voters
// once that many voters are in gossip: the one with the lowest id
// bootstraps all of them, the others wait to be contacted. A replica with
// a log, or that knows a leader, does nothing.
func (m *Membership) bootstrapExpected() {
	st, err := m.raft.Stats()
	if err != nil || st.LastIndex > 0 || len(st.Voters) > 0 && st.LeaderID != "" {
		return
	}
	var servers []Server
	for _, mb := range m.cfg.Members.Members() {
		live := mb.State == MemberAlive || mb.State == MemberSuspect
		if live && mb.Voter && mb.RaftAddr != "" {
			servers = append(servers, Server{ID: mb.ID, Address: mb.RaftAddr, Voter: true})
		}
	}
	if len(servers) < m.cfg.BootstrapExpect {
		return
	}
	slices.SortFunc(servers, func(a, b Server) int { return strings.Compare(a.ID, b.ID) })
	if servers[0].ID != st.NodeID {
		return
	}
	if err := m.raft.BootstrapCluster(servers[:m.cfg.BootstrapExpect]); err != nil {
		m.cfg.Logger.Warn("control: bootstrap", "err", err)
		return
	}
	m.cfg.Logger.Info("control: catalog bootstrapped", "voters", m.cfg.BootstrapExpect)
}
