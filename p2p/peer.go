package p2p

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/p2p/wire"
)

// askerSlots is how many recent askers a peer remembers (the peers the
// tracker pointed at it; they get drop if it turns out bad).
const askerSlots = 8

// maxPeerRanges bounds the ranges the tracker keeps per peer (the lowest
// are forgotten).
const maxPeerRanges = 64

// peer is one tracker socket. Fields are grouped by who guards them.
type peer struct {
	t    *Tracker
	id   uint64
	ids  string // id as 16 hex
	conn *websocket.Conn
	loc  locality
	rep  *reporter // report standing of loc.addr's address (reports.go)
	// req is the upgrade request, kept for Config.Admit on join (its
	// path carries the playback token). Valid while ServeHTTP runs,
	// which is the socket's whole life.
	req *http.Request

	// Guarded by sw.mu once joined (sw set by join).
	sw        *swarm
	grp       *group // nil with policy off
	upload    bool
	gone      bool
	openIdx   int32 // index in grp.open, -1 when not open
	score     int32
	drops     uint8 // drop-causing reports this peer made
	askerPos  uint8
	ranges    wire.RangeSet
	nbrs      []*peer
	askers    [askerSlots]uint64
	lastFetch time.Time
	accusers  []accusation       // unexpired bad reports about p, one per address
	blocked   [blockSlots]uint64 // peers p reported: never paired with p again
	blockPos  uint8

	// Reader goroutine only.
	joined   bool
	msgs     bucket
	errs     int
	errStart time.Time

	lastSeen atomic.Int64 // unix nanos of the last frame received

	// Write queue, guarded by qmu.
	qmu         sync.Mutex
	q           [][]byte
	writing     bool
	closing     bool // no more sends; close after the queue drains
	closeCode   websocket.StatusCode
	closeReason string
}

func newPeerID() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("p2p: crypto/rand: %v", err))
	}
	return binary.BigEndian.Uint64(b[:])
}

func formatPeerID(id uint64) string {
	s := strconv.FormatUint(id, 16)
	const zeros = "0000000000000000"
	return zeros[:wire.PeerIDLen-len(s)] + s
}

func parsePeerID(s string) (uint64, bool) {
	if !wire.ValidPeerID(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 16, 64)
	return v, err == nil
}

// uploads reports whether other peers may download from p.
func (p *peer) uploads() bool { return p.upload && p.loc.policy == wire.PolicyOn }

// send queues b (an encoded message) for p. It never blocks: a full queue
// closes p as a slow reader. It returns false when p is closing.
func (p *peer) send(b []byte) bool {
	p.qmu.Lock()
	defer p.qmu.Unlock()
	if p.closing {
		return false
	}
	if len(p.q) >= p.t.cfg.SendQueue {
		p.t.m.connFailures.WithLabelValues(failSlow).Inc()
		p.closing, p.closeCode, p.closeReason = true, websocket.StatusPolicyViolation, "slow reader"
		p.q = nil
		p.kickLocked()
		return false
	}
	p.q = append(p.q, b)
	p.kickLocked()
	return true
}

// relay queues b, a message another client caused (a relayed signal),
// only while p's queue is less than half full; otherwise b is dropped and
// false returned. Other clients can thus never fill p's queue and get it
// closed as a slow reader: the other half is for the tracker's own
// messages.
func (p *peer) relay(b []byte) bool {
	p.qmu.Lock()
	defer p.qmu.Unlock()
	if p.closing || len(p.q) >= p.t.cfg.SendQueue/2 {
		return false
	}
	p.q = append(p.q, b)
	p.kickLocked()
	return true
}

// sendMsg encodes and queues m.
func (p *peer) sendMsg(m wire.Message) bool { return p.send(wire.MustEncode(m)) }

// closeWith queues last (may be nil) and closes the socket with code once
// the queue is written.
func (p *peer) closeWith(last wire.Message, code websocket.StatusCode, reason string) {
	p.qmu.Lock()
	defer p.qmu.Unlock()
	if p.closing {
		return
	}
	if last != nil {
		p.q = append(p.q, wire.MustEncode(last))
	}
	p.closing, p.closeCode, p.closeReason = true, code, reason
	p.kickLocked()
}

// kickLocked starts the writer goroutine if it is not running.
func (p *peer) kickLocked() {
	if p.writing {
		return
	}
	p.writing = true
	if !p.t.goroutine(p.flush) {
		// Tracker closed: drop everything, close now.
		p.writing = false
		p.q = nil
		_ = p.conn.CloseNow()
	}
}

// flush writes queued messages until the queue is empty, then exits; it
// closes the socket when p is closing. At most one flush runs per peer.
func (p *peer) flush() {
	for {
		p.qmu.Lock()
		if len(p.q) == 0 {
			p.writing = false
			p.q = nil
			closing, code, reason := p.closing, p.closeCode, p.closeReason
			p.qmu.Unlock()
			if closing {
				_ = p.conn.Close(code, reason)
			}
			return
		}
		b := p.q[0]
		p.q[0] = nil
		p.q = p.q[1:]
		p.qmu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), p.t.cfg.WriteTimeout)
		err := p.conn.Write(ctx, websocket.MessageText, b)
		cancel()
		if err != nil {
			p.qmu.Lock()
			if !p.closing {
				p.t.m.connFailures.WithLabelValues(failWrite).Inc()
			}
			p.closing, p.writing, p.q = true, false, nil
			p.qmu.Unlock()
			_ = p.conn.CloseNow()
			return
		}
	}
}

// noteAsker remembers that the tracker pointed asker at p.
func (p *peer) noteAsker(asker uint64) {
	for _, a := range p.askers {
		if a == asker {
			return
		}
	}
	p.askers[p.askerPos%askerSlots] = asker
	p.askerPos++
}

func (p *peer) askedBy(asker uint64) bool {
	for _, a := range p.askers {
		if a == asker {
			return true
		}
	}
	return false
}

func (p *peer) isNeighbor(q *peer) bool {
	for _, n := range p.nbrs {
		if n == q {
			return true
		}
	}
	return false
}

func (p *peer) neighborIDs() []string {
	ids := make([]string, 0, len(p.nbrs))
	for _, n := range p.nbrs {
		ids = append(ids, n.ids)
	}
	return ids
}
