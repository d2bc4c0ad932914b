package peer

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/classmesh/classmesh/p2p"
	"github.com/classmesh/classmesh/p2p/wire"
)

// fetchAll fetches every test segment as a player would with the segment
// due ahead seconds from now, and checks the bytes against the files.
func fetchAll(t *testing.T, e *env, p *Peer, ahead time.Duration) []Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []Result
	for seq := range e.segs {
		req := Request{Seq: uint64(seq), URL: e.segURL(seq)}
		if ahead > 0 {
			req.PlayAt = time.Now().Add(ahead)
		}
		res, err := p.Fetch(ctx, req)
		if err != nil {
			t.Fatalf("fetch %d: %v", seq, err)
		}
		if !bytes.Equal(res.Data, e.segs[seq]) {
			t.Fatalf("segment %d from %s %s: bytes differ from the edge's", seq, res.Source, res.Peer)
		}
		out = append(out, res)
	}
	return out
}

func linked(ps ...*Peer) func() bool {
	return func() bool {
		for _, p := range ps {
			if p.Stats().LinksOpen < int64(len(ps)-1) {
				return false
			}
		}
		return true
	}
}

// TestTwoPeers: the first viewer is named fetcher and takes the segments
// over HTTP; the second takes them from the first over a data channel.
func TestTwoPeers(t *testing.T) {
	e := newEnv(t, p2p.DefaultConfig())
	a := e.newPeer(t, nil)
	b := e.newPeer(t, nil)
	waitFor(t, 20*time.Second, "a data channel between the peers", linked(a, b))

	for _, r := range fetchAll(t, e, a, 20*time.Second) {
		if r.Source != wire.SourceHTTP {
			t.Fatalf("first peer got segment %d from %s", r.Seq, r.Source)
		}
	}
	var total, fromPeer int64
	for _, r := range fetchAll(t, e, b, 20*time.Second) {
		total += int64(len(r.Data))
		if r.Source == wire.SourcePeer {
			if r.Peer != a.ID() {
				t.Fatalf("segment %d from unknown peer %q", r.Seq, r.Peer)
			}
			fromPeer += int64(len(r.Data))
		}
	}
	if fromPeer*2 < total {
		t.Fatalf("second peer got %d of %d bytes from the first, want at least half", fromPeer, total)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.BytesUploaded != fromPeer || sb.BytesPeer != fromPeer {
		t.Fatalf("uploaded %d, downloaded from peers %d, want %d", sa.BytesUploaded, sb.BytesPeer, fromPeer)
	}
	waitFor(t, 5*time.Second, "the edge's played-bytes metric", func() bool {
		return e.counter(t, "classmesh_p2p_bytes_played_total") >= float64(2*total)
	})
	t.Logf("second peer: %d/%d bytes from the first (%.0f%%)", fromPeer, total, 100*float64(fromPeer)/float64(total))
}

// fromAddr makes a peer dial the tracker and the edge from a loopback
// address of its own (Linux routes all of 127.0.0.0/8 to lo), so the
// tracker sees separate client addresses in one 127.0.0.0/24 group.
func fromAddr(ip string) func(*Config) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return func(c *Config) {
		c.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
}

// TestMaliciousPeersDetected: two peers corrupt every segment they serve;
// two download-only viewers at other addresses take every segment from
// them or HTTP. Every corrupted transfer is rejected and reported, the
// viewers play every segment intact from HTTP, and the tracker drops both
// senders once the two viewers' addresses reported them
// (p2p.DefaultDropQuorum).
func TestMaliciousPeersDetected(t *testing.T) {
	e := newEnv(t, p2p.DefaultConfig())
	bad1 := e.newPeer(t, func(c *Config) { fromAddr("127.0.0.1")(c); c.Malicious = true })
	bad2 := e.newPeer(t, func(c *Config) { fromAddr("127.0.0.3")(c); c.Malicious = true })
	fetchAll(t, e, bad1, 0)
	fetchAll(t, e, bad2, 0)
	var viewers []*Peer
	for _, ip := range []string{"127.0.0.2", "127.0.0.4"} {
		viewers = append(viewers, e.newPeer(t, func(c *Config) { fromAddr(ip)(c); c.Upload = false }))
	}
	waitFor(t, 20*time.Second, "data channels from both viewers to both malicious peers", func() bool {
		return viewers[0].Stats().LinksOpen >= 2 && viewers[1].Stats().LinksOpen >= 2
	})

	var rejected, rejectedHash int64
	for _, v := range viewers {
		for _, r := range fetchAll(t, e, v, 20*time.Second) { // bytes checked against the files
			rejected += int64(r.Rejected)
			if r.Source != wire.SourceHTTP {
				t.Fatalf("segment %d accepted from peer %s", r.Seq, r.Peer)
			}
		}
		s := v.Stats()
		rejectedHash += s.RejectedHash
		if s.BytesPeer != 0 || s.BadPeers != 2 || s.LinksOpen != 0 {
			t.Fatalf("viewer stats after the attack: %+v", s)
		}
	}
	served := bad1.Stats().SegmentsUploaded + bad2.Stats().SegmentsUploaded
	if served == 0 || rejectedHash != served || rejected != served {
		t.Fatalf("malicious peers served %d segments, viewers rejected %d (hash) / %d (results)", served, rejectedHash, rejected)
	}
	// Reports reach the tracker through the peer's paced write queue,
	// after Fetch returned: wait for them.
	waitFor(t, 10*time.Second, "the edge to count every hash failure", func() bool {
		return e.counter(t, "classmesh_p2p_hash_failures_total") >= float64(served)
	})
	if got := e.counter(t, "classmesh_p2p_hash_failures_total"); got != float64(served) {
		t.Fatalf("edge counted %v hash failures, want %d", got, served)
	}
	waitFor(t, 5*time.Second, "the tracker to drop the malicious peers", func() bool {
		bad1.mu.Lock()
		defer bad1.mu.Unlock()
		bad2.mu.Lock()
		defer bad2.mu.Unlock()
		return !bad1.online && !bad2.online
	})
}

// TestLatePeerAbandoned: a peer that uploads at 8 kbit/s cannot deliver
// before the deadline (play time − http_margin_s); the viewer cancels,
// reports a timeout and takes the rest of the segment over HTTP (a Range
// request) in time. With a malicious slow peer the joined bytes fail
// verification: the peer is dropped and the whole segment comes over HTTP.
func TestLatePeerAbandoned(t *testing.T) {
	for _, tc := range []struct {
		name      string
		malicious bool
	}{
		{"tail", false},
		{"bad prefix", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, p2p.DefaultConfig())
			slow := e.newPeer(t, func(c *Config) { c.UplinkBitsPerSec, c.Malicious = 8000, tc.malicious })
			v := e.newPeer(t, nil)
			waitFor(t, 20*time.Second, "a data channel", linked(slow, v))
			ctx := context.Background()
			seq := 3
			if _, err := slow.Fetch(ctx, Request{Seq: uint64(seq), URL: e.segURL(seq)}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the slow peer's have", func() bool {
				for _, l := range v.openLinks(nil) {
					if l.holds(uint64(seq)) {
						return true
					}
				}
				return false
			})
			playAt := time.Now().Add(6500 * time.Millisecond) // deadline 2.5 s from now
			res, err := v.Fetch(ctx, Request{Seq: uint64(seq), URL: e.segURL(seq), PlayAt: playAt})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(res.Data, e.segs[seq]) {
				t.Fatalf("segment from %s differs from the edge's", res.Source)
			}
			if time.Now().After(playAt) {
				t.Fatal("segment arrived after its play time")
			}
			s := v.Stats()
			size := int64(len(e.segs[seq]))
			if tc.malicious {
				if res.Source != wire.SourceHTTP || s.BadPeers != 1 || s.RejectedHash != 1 || s.BytesHTTP != size || s.PeerTails != 0 {
					t.Fatalf("source %s, stats %+v", res.Source, s)
				}
				return
			}
			if res.Source != wire.SourcePeer || s.Timeouts != 1 || s.BadPeers != 0 || s.PeerTails != 1 {
				t.Fatalf("source %s, stats %+v", res.Source, s)
			}
			if s.BytesPeer <= 0 || s.BytesPeer+s.BytesHTTP != size || s.HTTPBytesByCause["timeout"] != s.BytesHTTP {
				t.Fatalf("bytes: %d from the peer, %d over HTTP (%v) of %d", s.BytesPeer, s.BytesHTTP, s.HTTPBytesByCause, size)
			}
		})
	}
}

// TestPolicyOff: with policy off every segment comes over HTTP and no
// data channel is opened.
func TestPolicyOff(t *testing.T) {
	cfg := p2p.DefaultConfig()
	cfg.DefaultPolicy = wire.PolicyOff
	e := newEnv(t, cfg)
	a := e.newPeer(t, nil)
	b := e.newPeer(t, nil)
	fetchAll(t, e, a, 20*time.Second)
	for _, r := range fetchAll(t, e, b, 20*time.Second) {
		if r.Source != wire.SourceHTTP {
			t.Fatalf("segment %d from %s with policy off", r.Seq, r.Source)
		}
	}
	if a.Stats().LinksOpened+b.Stats().LinksOpened != 0 {
		t.Fatal("data channels opened with policy off")
	}
}

// TestNoTracker: without a tracker a Peer is a plain rate-capped HTTP
// client.
func TestNoTracker(t *testing.T) {
	e := newEnv(t, p2p.DefaultConfig())
	p, err := New(Config{MediaURL: e.mediaURL})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	fetchAll(t, e, p, 20*time.Second)
	if s := p.Stats(); s.SegmentsHTTP != int64(len(e.segs)) || s.BytesPeer != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestWrongSizeRejected: a neighbor announcing a size other than the
// edge's is rejected before any byte is accepted, reported and dropped.
func TestWrongSizeRejected(t *testing.T) {
	e := newEnv(t, p2p.DefaultConfig())
	liar := e.newPeer(t, nil)
	v := e.newPeer(t, nil)
	waitFor(t, 20*time.Second, "a data channel", linked(liar, v))
	const seq = 2
	liar.keep(seq, entry{data: e.segs[seq][:len(e.segs[seq])-1], source: wire.SourceHTTP}, nil) // one byte short
	waitFor(t, 5*time.Second, "the liar's have", func() bool {
		ls := v.openLinks(nil)
		return len(ls) == 1 && ls[0].holds(seq)
	})
	res, err := v.Fetch(context.Background(), Request{Seq: seq, URL: e.segURL(seq), PlayAt: time.Now().Add(20 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Source != wire.SourceHTTP || res.Rejected != 1 || !bytes.Equal(res.Data, e.segs[seq]) {
		t.Fatalf("result from %s, %d rejected", res.Source, res.Rejected)
	}
	if s := v.Stats(); s.RejectedSize != 1 || s.BadPeers != 1 || s.BytesPeer != 0 {
		t.Fatalf("stats %+v", s)
	}
	waitFor(t, 10*time.Second, "the edge to count the failure", func() bool {
		return e.counter(t, "classmesh_p2p_hash_failures_total") >= 1
	})
	if got := e.counter(t, "classmesh_p2p_hash_failures_total"); got != 1 {
		t.Fatalf("edge counted %v failures", got)
	}
}
