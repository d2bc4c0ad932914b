package control

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	bolt "go.etcd.io/bbolt"
)

// Store is a catalog replica: a raft server plus the FSM on catalog.db.
type Store struct {
	cfg  Config
	raft *raft.Raft
	fsm  *fsm
	logs *raftboltdb.BoltStore
	// logCache fronts logs for raft and for ReadIndex.
	logCache *raft.LogCache
	// net is the transport built on Config.StreamLayer, closed by Close;
	// nil when the caller passed a Transport.
	net     *raft.NetworkTransport
	metrics *metrics
	batcher *batcher

	obsCh    chan raft.Observation
	observer *raft.Observer
	done     chan struct{}
	wg       sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	// tokens caches the token table by hash for TokenByHash, valid while
	// the token kind's generation equals tokensGen.
	tokenMu   sync.Mutex
	tokens    map[string]APIToken
	tokensGen uint64
	closedMu  sync.RWMutex
	closed    bool
}

// Voter reports whether this node is configured as a voter (Config.Voter).
func (s *Store) Voter() bool { return s.cfg.Voter }

// Server is one member of a bootstrap configuration.
type Server struct {
	ID      string
	Address string
	Voter   bool
}

// Open starts a Store. With cfg.Bootstrap and no raft state on disk it
// bootstraps a one-node cluster. From the call on the Store owns
// cfg.StreamLayer: it is closed by Close, or before Open returns an error.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		if cfg.StreamLayer != nil {
			_ = cfg.StreamLayer.Close()
		}
		return nil, err
	}
	raftDir := filepath.Join(cfg.DataDir, "raft")
	if err := os.MkdirAll(raftDir, 0o700); err != nil {
		if cfg.StreamLayer != nil {
			_ = cfg.StreamLayer.Close()
		}
		return nil, fmt.Errorf("control: %w", err)
	}
	s := &Store{cfg: cfg, done: make(chan struct{})}
	if err := s.openParts(raftDir); err != nil {
		s.closeParts()
		return nil, err
	}
	if cfg.Bootstrap {
		if err := s.bootstrapSelf(raftDir); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) openParts(raftDir string) error {
	cfg := &s.cfg
	if cfg.StreamLayer != nil {
		s.net = newNetworkTransport(cfg.StreamLayer, cfg)
		cfg.Transport = s.net
	}
	logs, err := raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(raftDir, "raft.db"),
		BoltOptions: &bolt.Options{NoFreelistSync: true, Timeout: time.Second},
	})
	if err != nil {
		return fmt.Errorf("control: open raft log: %w", err)
	}
	s.logs = logs
	rc := cfg.raftConfig()
	snaps, err := raft.NewFileSnapshotStoreWithLogger(raftDir, 2, rc.Logger)
	if err != nil {
		return fmt.Errorf("control: open snapshots: %w", err)
	}
	if s.fsm, err = openFSM(filepath.Join(cfg.DataDir, "catalog.db"), cfg.HistoryLimit, cfg.Logger); err != nil {
		return err
	}
	if s.metrics, err = newMetrics(cfg.Registerer, cfg.NodeID); err != nil {
		return fmt.Errorf("control: metrics: %w", err)
	}
	s.fsm.onApply = func(i uint64) { s.metrics.applied.Set(float64(i)) }
	cached, err := raft.NewLogCache(512, logs)
	if err != nil {
		return fmt.Errorf("control: log cache: %w", err)
	}
	s.logCache = cached
	if s.raft, err = raft.NewRaft(rc, s.fsm, cached, logs, snaps, cfg.Transport); err != nil {
		return fmt.Errorf("control: start raft: %w", err)
	}
	s.batcher = newBatcher(s.raft, cfg, s.metrics)
	s.watchLeader()
	return nil
}

func (s *Store) bootstrapSelf(raftDir string) error {
	snaps, err := raft.NewFileSnapshotStoreWithLogger(raftDir, 2, s.cfg.raftConfig().Logger)
	if err != nil {
		return fmt.Errorf("control: open snapshots: %w", err)
	}
	has, err := raft.HasExistingState(s.logs, s.logs, snaps)
	if err != nil || has {
		return err
	}
	addr := string(s.cfg.Transport.LocalAddr())
	return s.BootstrapCluster([]Server{{ID: s.cfg.NodeID, Address: addr, Voter: true}})
}

// BootstrapCluster bootstraps a new cluster with the given servers (for
// --bootstrap-expect: every starting voter passes the same list). It fails
// with raft.ErrCantBootstrap when state already exists.
func (s *Store) BootstrapCluster(servers []Server) error {
	conf := raft.Configuration{}
	for _, sv := range servers {
		suf := raft.Voter
		if !sv.Voter {
			suf = raft.Nonvoter
		}
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: suf, ID: raft.ServerID(sv.ID), Address: raft.ServerAddress(sv.Address)})
	}
	if err := s.raft.BootstrapCluster(conf).Error(); err != nil {
		return fmt.Errorf("control: bootstrap: %w", err)
	}
	return nil
}

// watchLeader counts leader changes from raft observations.
func (s *Store) watchLeader() {
	s.obsCh = make(chan raft.Observation, 16)
	s.observer = raft.NewObserver(s.obsCh, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	s.raft.RegisterObserver(s.observer)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			select {
			case o := <-s.obsCh:
				lo := o.Data.(raft.LeaderObservation)
				s.metrics.leaderChanges.Inc()
				s.cfg.Logger.Info("control: leader changed", "node", s.cfg.NodeID, "leader", string(lo.LeaderID))
			case <-s.done:
				return
			}
		}
	}()
}

// Close stops the store. A leader with other voters first hands leadership
// over (bounded by a few election timeouts) so the cluster does not wait
// for a failure detection. Then raft stops and the transport built on
// Config.StreamLayer closes with its layer; a Config.Transport is left to
// the caller.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closedMu.Lock()
		s.closed = true
		s.closedMu.Unlock()
		if s.raft != nil && s.IsLeader() && s.otherVoters() > 0 {
			s.transferBounded()
		}
		s.closeErr = s.closeParts()
	})
	return s.closeErr
}

func (s *Store) transferBounded() {
	ch := make(chan error, 1)
	go func() { ch <- s.raft.LeadershipTransfer().Error() }()
	select {
	case err := <-ch:
		if err != nil {
			s.cfg.Logger.Warn("control: leadership transfer failed", "err", err)
		}
	case <-time.After(5 * time.Second):
		s.cfg.Logger.Warn("control: leadership transfer timed out")
	}
}

func (s *Store) closeParts() error {
	var errs []error
	if s.raft != nil {
		errs = append(errs, s.raft.Shutdown().Error())
		s.raft.DeregisterObserver(s.observer)
	}
	if s.batcher != nil {
		s.batcher.close() // after the shutdown resolved the entries in flight
	}
	if s.net != nil {
		errs = append(errs, s.net.Close()) // closes the stream layer too
	}
	close(s.done)
	s.wg.Wait()
	if s.logs != nil {
		errs = append(errs, s.logs.Close())
	}
	if s.fsm != nil {
		errs = append(errs, s.fsm.close())
	}
	if s.metrics != nil {
		s.metrics.unregister()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("control: close: %w", err)
	}
	return nil
}

func (s *Store) isClosed() bool {
	s.closedMu.RLock()
	defer s.closedMu.RUnlock()
	return s.closed
}

func (s *Store) otherVoters() int {
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	n := 0
	for _, sv := range f.Configuration().Servers {
		if sv.Suffrage == raft.Voter && string(sv.ID) != s.cfg.NodeID {
			n++
		}
	}
	return n
}
