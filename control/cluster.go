package control

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// pollInterval is how often waits re-check raft state.
const pollInterval = 10 * time.Millisecond

// membershipTimeout bounds the enqueueing of a configuration change.
const membershipTimeout = 10 * time.Second

// IsLeader reports whether this node is the raft leader.
func (s *Store) IsLeader() bool { return s.raft.State() == raft.Leader }

// Leader returns the current leader's id and address, empty when unknown.
func (s *Store) Leader() (id, addr string) {
	a, i := s.raft.LeaderWithID()
	return string(i), string(a)
}

// WaitLeader blocks until a leader is known or ctx ends.
func (s *Store) WaitLeader(ctx context.Context) error {
	return poll(ctx, func() bool { id, _ := s.Leader(); return id != "" })
}

// WaitApplied blocks until this replica has applied index idx (the Index
// of a write's Result, or an index from the leader's ReadIndex).
func (s *Store) WaitApplied(ctx context.Context, idx uint64) error {
	return s.fsm.waitApplied(ctx, idx)
}

func poll(ctx context.Context, done func() bool) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for !done() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("control: wait: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// ReadIndex makes a linearizable read possible on the leader. It confirms
// leadership with a quorum (VerifyLeader); if some entries of the leader's log
// are not committed yet (e.g. just after an election, before its no-op
// commits) it issues a Barrier; otherwise it waits until the FSM has applied
// the last command at or below the commit index. It returns that index:
// reads made after it returns see every write acknowledged before it was
// called. Followers get ErrNotLeader; the API layer forwards the call to the
// leader and then waits here with WaitApplied.
func (s *Store) ReadIndex(ctx context.Context) (uint64, error) {
	if s.isClosed() {
		return 0, ErrClosed
	}
	if err := s.wait(ctx, s.raft.VerifyLeader()); err != nil {
		return 0, err
	}
	ci := s.raft.CommitIndex()
	if s.raft.LastIndex() > ci {
		if err := s.wait(ctx, s.raft.Barrier(s.cfg.ApplyTimeout)); err != nil {
			return 0, err
		}
		return s.fsm.appliedIndex(), nil
	}
	target := s.lastFSMEntry(ci)
	if err := s.WaitApplied(ctx, target); err != nil {
		return 0, err
	}
	return target, nil
}

// lastFSMEntry returns the index of the last entry at or below idx that the
// FSM sees (commands and configurations; no-ops and barriers never reach it).
func (s *Store) lastFSMEntry(idx uint64) uint64 {
	var l raft.Log
	for i := idx; i > 0; i-- {
		if err := s.logCache.GetLog(i, &l); err != nil {
			return s.fsm.appliedIndex() // compacted: covered by a snapshot
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return i
		}
	}
	return 0
}

// wait waits for a raft future or ctx, mapping raft's leadership errors.
func (s *Store) wait(ctx context.Context, f raft.Future) error {
	ch := make(chan error, 1)
	go func() { ch <- f.Error() }()
	select {
	case err := <-ch:
		return mapRaftErr(err)
	case <-ctx.Done():
		return fmt.Errorf("control: %w", ctx.Err())
	}
}

func mapRaftErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("%w: %v", ErrIndeterminate, err)
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %v", ErrNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	}
	return fmt.Errorf("control: raft: %w", err)
}

// AddVoter adds (or promotes) a voting server. Leader only.
func (s *Store) AddVoter(id, addr string) error {
	return mapRaftErr(s.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, membershipTimeout).Error())
}

// AddNonvoter adds a non-voting replica. Leader only.
func (s *Store) AddNonvoter(id, addr string) error {
	return mapRaftErr(s.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, membershipTimeout).Error())
}

// RemoveServer removes a server from the configuration. Leader only.
func (s *Store) RemoveServer(id string) error {
	return mapRaftErr(s.raft.RemoveServer(raft.ServerID(id), 0, membershipTimeout).Error())
}

// TransferLeadership hands leadership to the most up-to-date voter.
func (s *Store) TransferLeadership() error {
	return mapRaftErr(s.raft.LeadershipTransfer().Error())
}

// Stats is a snapshot of the raft state of this node.
type Stats struct {
	NodeID            string   `json:"node_id"`
	State             string   `json:"state"`
	LeaderID          string   `json:"leader_id"`
	LeaderAddr        string   `json:"leader_addr"`
	Term              uint64   `json:"term"`
	Voters            []string `json:"voters"`
	Nonvoters         []string `json:"nonvoters"`
	AppliedIndex      uint64   `json:"applied_index"`
	CommitIndex       uint64   `json:"commit_index"`
	LastIndex         uint64   `json:"last_index"`
	LastSnapshotIndex uint64   `json:"last_snapshot_index"`
}

// Stats returns this node's view of the cluster.
func (s *Store) Stats() (Stats, error) {
	st := Stats{
		NodeID:       s.cfg.NodeID,
		State:        s.raft.State().String(),
		Term:         s.raft.CurrentTerm(),
		AppliedIndex: s.fsm.appliedIndex(),
		CommitIndex:  s.raft.CommitIndex(),
		LastIndex:    s.raft.LastIndex(),
	}
	st.LeaderID, st.LeaderAddr = s.Leader()
	st.LastSnapshotIndex, _ = strconv.ParseUint(s.raft.Stats()["last_snapshot_index"], 10, 64)
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return st, mapRaftErr(err)
	}
	for _, sv := range f.Configuration().Servers {
		if sv.Suffrage == raft.Voter {
			st.Voters = append(st.Voters, string(sv.ID))
		} else {
			st.Nonvoters = append(st.Nonvoters, string(sv.ID))
		}
	}
	return st, nil
}

// Snapshot asks raft for a snapshot now (operators, tests).
func (s *Store) Snapshot() error {
	return mapRaftErr(s.raft.Snapshot().Error())
}
