package cluster

import (
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// A graceful leave is told apart from a failure on the receiving side. The
// leaving flag in the node metadata spreads by gossip, which can be slow on
// a loaded machine; so Leave also sends every member a direct leave notice
// over memberlist's reliable (TCP, encrypted with the gossip key) channel
// before the leave broadcast. A receiver that got the notice records the
// member as left rather than dead whichever of the two arrives first.

// msgLeaving is the first byte of a leave notice; the sender's node ID
// follows.
const msgLeaving byte = 0x4c

// leaveNoticeTTL bounds how long a receiver remembers a leave notice that
// was not followed by the leave itself.
const leaveNoticeTTL = time.Minute

// errBadNotice is returned for user messages that are not leave notices.
var errBadNotice = errors.New("cluster: malformed leave notice")

func encodeLeaveNotice(id string) []byte {
	return append([]byte{msgLeaving}, id...)
}

// decodeLeaveNotice returns the node ID of a leave notice.
func decodeLeaveNotice(b []byte) (string, error) {
	if len(b) < 2 || b[0] != msgLeaving {
		return "", errBadNotice
	}
	id := string(b[1:])
	if !validNodeID(id) {
		return "", errBadNotice
	}
	return id, nil
}

// leaveNotices remembers which members announced a graceful leave.
type leaveNotices struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (l *leaveNotices) add(id string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]time.Time{}
	}
	for k, t := range l.seen {
		if now.Sub(t) > leaveNoticeTTL {
			delete(l.seen, k)
		}
	}
	l.seen[id] = now
}

// take reports whether id announced a leave recently, and forgets it.
func (l *leaveNotices) take(id string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.seen[id]
	delete(l.seen, id)
	return ok && now.Sub(t) <= leaveNoticeTTL
}

// sendLeaveNotices tells every other live member that this node is leaving,
// in parallel, waiting at most timeout. Members that cannot be reached learn
// of the leave from the metadata flag or see a failure. A send still
// running after timeout is left to finish on its own (memberlist's TCP
// timeout bounds it): waiting for it in Close would hold a SIGTERM exit on
// an unreachable peer.
func (c *Cluster) sendLeaveNotices(ml *memberlist.Memberlist, timeout time.Duration) {
	msg := encodeLeaveNotice(c.id)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, n := range ml.Members() {
		if n.Name == c.id {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ml.SendReliable(n, msg); err != nil {
				c.log.Debug("cluster: leave notice", "to", n.Name, "err", err)
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		c.log.Debug("cluster: leave notices not all delivered in time")
	}
}
