package cluster

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// mtNode is a started Cluster with its log and metrics.
type mtNode struct {
	*Cluster
	log *mtLogBuf
}

// refused reads the transport's refused-handshake counter for reason
// through the node's registry.
func (n *mtNode) refused(reason string) float64 {
	return mtCounter(n.cfg.Registerer.(prometheus.Gatherer), "classmesh_quic_handshakes_refused_total", "reason", reason)
}

// mtStart starts a node on 127.0.0.1 with the local gossip profile.
func mtStart(t *testing.T, id string, edit func(*Config)) *mtNode {
	t.Helper()
	n := mtNew(t, id, edit)
	if err := n.Start(mtCtx(t)); err != nil {
		t.Fatal(err)
	}
	return n
}

// mtNew builds a node without starting it.
func mtNew(t *testing.T, id string, edit func(*Config)) *mtNode {
	t.Helper()
	lb := &mtLogBuf{}
	cfg := Config{
		NodeID:        id,
		DataDir:       t.TempDir(),
		GossipAddr:    "127.0.0.1:0",
		QUICAddr:      "127.0.0.1:0",
		Region:        "eu",
		HTTPAddr:      "http://" + id + ".test:8080",
		Secret:        mtSecret,
		GossipProfile: ProfileLocal,
		Version:       "test",
		MetaInterval:  100 * time.Millisecond,
		Logger:        lb.logger(),
		Registerer:    prometheus.NewRegistry(),
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &mtNode{Cluster: c, log: lb}
}

// mtJoin returns an edit that joins the given nodes.
func mtJoin(seeds ...*mtNode) func(*Config) {
	return func(c *Config) {
		for _, s := range seeds {
			c.Join = append(c.Join, s.Self().GossipAddr)
		}
	}
}

// mtWaitMembers waits until every node sees exactly n alive members.
func mtWaitMembers(t *testing.T, n int, nodes ...*mtNode) {
	t.Helper()
	mtEventually(t, 20*time.Second, strconv.Itoa(n)+" members everywhere", func() bool {
		for _, nd := range nodes {
			if len(nd.Members()) != n {
				return false
			}
		}
		return true
	})
}

// mtFreePort returns a TCP port that was free a moment ago.
func mtFreePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// mtRecorder records events.
type mtRecorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *mtRecorder) HandleClusterEvent(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

// has reports whether an event of type typ for node id was seen, with
// check (if non-nil) holding for it.
func (r *mtRecorder) has(typ EventType, id string, check func(Member) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.evs {
		if e.Type == typ && e.Member.ID == id && (check == nil || check(e.Member)) {
			return true
		}
	}
	return false
}

// mtFind returns the member with id in ms.
func mtFind(ms []Member, id string) (Member, bool) {
	for _, m := range ms {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
