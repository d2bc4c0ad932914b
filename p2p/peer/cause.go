package peer

import "sync/atomic"

// Cause says why a segment was taken over HTTP rather than from a peer.
// The names are stable: they are the keys of Stats.HTTPBytesByCause and
// of the "http_bytes_by_cause" object of `classmesh swarm --json`.
type Cause int

// Causes, in the order the fetch path decides them.
const (
	// CauseStartup: no play time given (startup, a retry, or a caller
	// that does not schedule).
	CauseStartup Cause = iota
	// CauseNear: the segment is due sooner than p2p_window_s[0].
	CauseNear
	// CauseOffline: no tracker (socket down) or policy off.
	CauseOffline
	// CauseFetcher: the tracker named this peer a fetcher (want answer
	// fetch:true, or a live fetch push).
	CauseFetcher
	// CauseNoPeers: the tracker listed nobody, or did not answer in time.
	CauseNoPeers
	// CauseNoHash: the edge's SHA-256 was not known, so peer bytes could
	// not be verified.
	CauseNoHash
	// CauseNoNeighbor: no open neighbor held the segment (or all said
	// none or closed) before the time to start a transfer ran out.
	CauseNoNeighbor
	// CauseTimeout: a peer transfer was started but not finished before
	// the deadline and was abandoned.
	CauseTimeout
	// CauseRejected: peer bytes failed verification and no other peer
	// delivered.
	CauseRejected
	numCauses
)

var causeNames = [numCauses]string{
	"startup", "near", "offline", "fetcher", "no_peers", "no_hash", "no_neighbor", "timeout", "rejected",
}

// String is the cause's stable name.
func (c Cause) String() string {
	if c < 0 || c >= numCauses {
		return "unknown"
	}
	return causeNames[c]
}

// causeCounters counts HTTP bytes and segments per cause.
type causeCounters struct {
	bytes, segs [numCauses]atomic.Int64
}

func (cc *causeCounters) add(c Cause, n int) {
	if c < 0 || c >= numCauses {
		return
	}
	cc.bytes[c].Add(int64(n))
	cc.segs[c].Add(1)
}

// snapshot returns the non-zero byte counts by cause name.
func (cc *causeCounters) snapshot() (bytes, segs map[string]int64) {
	bytes, segs = make(map[string]int64), make(map[string]int64)
	for c := range numCauses {
		if n := cc.bytes[c].Load(); n > 0 {
			bytes[c.String()] = n
			segs[c.String()] = cc.segs[c].Load()
		}
	}
	return bytes, segs
}
