package control

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Store. Zero values are documented per field; use
// DefaultConfig for production defaults.
type Config struct {
	// NodeID is this server's raft id (the cluster node name). Required.
	NodeID string
	// DataDir holds raft/raft.db (log and stable store), raft/snapshots and
	// catalog.db (the FSM state). Required.
	DataDir string
	// StreamLayer is the network raft runs over (the node passes the
	// cluster's QUIC raft layer). The Store builds raft's NetworkTransport
	// on it and closes both on Close, also when Open fails. Exactly one of
	// StreamLayer and Transport is required.
	StreamLayer StreamLayer
	// Transport carries raft RPCs when no StreamLayer is given (tests pass
	// raft's TCP or in-memory transports). The Store does not close it.
	Transport raft.Transport
	// Voter: control-role nodes vote; false marks a non-voting replica. The
	// leader decides membership (AddVoter/AddNonvoter); this field tells the
	// membership layer which to ask for, and a non-voter cannot Bootstrap.
	// Zero value false; DefaultConfig sets true.
	Voter bool
	// Bootstrap makes a node with no raft state bootstrap a one-node cluster
	// (with itself as voter). Ignored when state exists.
	Bootstrap bool

	// SnapshotThreshold is how many new entries trigger a snapshot.
	// Zero means 8192.
	SnapshotThreshold uint64
	// TrailingLogs is how many entries are kept after a snapshot. It must
	// exceed what is appended while a snapshot is sent to a lagging
	// follower, or the follower needs another snapshot at once. Zero means
	// 10240.
	TrailingLogs uint64
	// SnapshotInterval is how often the threshold is checked. Zero means 2m.
	SnapshotInterval time.Duration
	// HistoryLimit is how many revisions of a record are kept. Zero means 10.
	HistoryLimit int

	// HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout and CommitTimeout
	// tune raft; zero means raft's defaults (1s, 1s, 500ms, 50ms).
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// ApplyTimeout bounds the enqueueing of a write. Zero means 10s.
	ApplyTimeout time.Duration
	// WriteTimeout bounds a write or a linearizable read through the
	// Forwarder end to end: waiting for a leader, forwarding, committing.
	// Past it the call ends with ErrUnavailable, or ErrIndeterminate when
	// the write was already sent. A write in flight to a leader that
	// dies ends sooner, as soon as this replica sees the leader change
	// (about one election timeout). Zero means 10s.
	WriteTimeout time.Duration

	// MaxBatch is how many concurrent writes the leader puts into one raft
	// log entry at most. Zero means 256; 1 gives every write its own entry.
	MaxBatch int
	// MaxBatchBytes bounds the encoded commands of one entry (a single
	// larger command still goes alone). Zero means 1 MiB; at most
	// MaxEntrySize.
	MaxBatchBytes int
	// MaxBatchesInFlight is how many entries of writes may be in raft
	// (proposed, not yet applied) at once; writes arriving meanwhile queue
	// and form the next entry. Zero means 1 (a pure group commit).
	MaxBatchesInFlight int

	// RaftLogLevel is the minimum level of raft's own log lines. Zero is
	// slog.LevelInfo; DefaultConfig uses slog.LevelWarn.
	RaftLogLevel slog.Level
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives metrics; nil means a private registry (the
	// metrics exist but are not exported).
	Registerer prometheus.Registerer
	// Now stamps updated_at on the leader; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with production defaults; the caller sets
// NodeID, DataDir and StreamLayer (or Transport).
func DefaultConfig() Config {
	return Config{
		Voter:              true,
		SnapshotThreshold:  8192,
		TrailingLogs:       10240,
		SnapshotInterval:   2 * time.Minute,
		HistoryLimit:       10,
		ApplyTimeout:       10 * time.Second,
		WriteTimeout:       10 * time.Second,
		MaxBatch:           256,
		MaxBatchBytes:      1 << 20,
		MaxBatchesInFlight: 1,
		RaftLogLevel:       slog.LevelWarn,
	}
}

// Validate checks the config and fills zero values with their defaults.
func (c *Config) Validate() error {
	switch {
	case c.NodeID == "":
		return fmt.Errorf("%w: NodeID is required", ErrBadConfig)
	case c.DataDir == "":
		return fmt.Errorf("%w: DataDir is required", ErrBadConfig)
	case c.Transport == nil && c.StreamLayer == nil:
		return fmt.Errorf("%w: a StreamLayer or a Transport is required", ErrBadConfig)
	case c.Transport != nil && c.StreamLayer != nil:
		return fmt.Errorf("%w: give a StreamLayer or a Transport, not both", ErrBadConfig)
	case c.Bootstrap && !c.Voter:
		return fmt.Errorf("%w: a non-voter cannot bootstrap", ErrBadConfig)
	case c.HistoryLimit < 0:
		return fmt.Errorf("%w: HistoryLimit must not be negative", ErrBadConfig)
	case c.MaxBatch < 0 || c.MaxBatch > MaxBatchCommands:
		return fmt.Errorf("%w: MaxBatch must be in 0..%d", ErrBadConfig, MaxBatchCommands)
	case c.MaxBatchBytes < 0 || c.MaxBatchBytes > MaxEntrySize-MaxBatchCommands*batchOverhead:
		return fmt.Errorf("%w: MaxBatchBytes must be in 0..%d", ErrBadConfig, MaxEntrySize-MaxBatchCommands*batchOverhead)
	case c.MaxBatchesInFlight < 0:
		return fmt.Errorf("%w: MaxBatchesInFlight must not be negative", ErrBadConfig)
	}
	d := DefaultConfig()
	c.SnapshotThreshold = cmp.Or(c.SnapshotThreshold, d.SnapshotThreshold)
	c.TrailingLogs = cmp.Or(c.TrailingLogs, d.TrailingLogs)
	c.SnapshotInterval = cmp.Or(c.SnapshotInterval, d.SnapshotInterval)
	c.HistoryLimit = cmp.Or(c.HistoryLimit, d.HistoryLimit)
	c.ApplyTimeout = cmp.Or(c.ApplyTimeout, d.ApplyTimeout)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, d.WriteTimeout)
	c.MaxBatch = cmp.Or(c.MaxBatch, d.MaxBatch)
	c.MaxBatchBytes = cmp.Or(c.MaxBatchBytes, d.MaxBatchBytes)
	c.MaxBatchesInFlight = cmp.Or(c.MaxBatchesInFlight, d.MaxBatchesInFlight)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// raftConfig builds the hashicorp/raft configuration.
func (c *Config) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.NodeID)
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.TrailingLogs = c.TrailingLogs
	rc.SnapshotInterval = c.SnapshotInterval
	if c.HeartbeatTimeout > 0 {
		rc.HeartbeatTimeout = c.HeartbeatTimeout
	}
	if c.ElectionTimeout > 0 {
		rc.ElectionTimeout = c.ElectionTimeout
	}
	if c.LeaderLeaseTimeout > 0 {
		rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	}
	if c.CommitTimeout > 0 {
		rc.CommitTimeout = c.CommitTimeout
	}
	rc.Logger = newHCLog(c.Logger, c.RaftLogLevel)
	rc.NoLegacyTelemetry = true
	rc.BatchApplyCh = true
	return rc
}
