package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/p2p/wire"
)

type options struct {
	url    string
	peers  int
	src    string
	swarms int
	// swarmList, when set, replaces the generated swarm ids.
	swarmList []string
	rate      float64
	dialers   int
	interval  time.Duration
	duration  time.Duration
	timeout   time.Duration
	ready     string
}

func (o options) validate() error {
	switch {
	case o.peers <= 0:
		return errors.New("-peers must be positive")
	case o.swarms <= 0:
		return errors.New("-swarms must be positive")
	case o.rate <= 0 || o.dialers <= 0:
		return errors.New("-rate and -dialers must be positive")
	case o.interval <= 0 || o.duration < 0 || o.timeout <= 0:
		return errors.New("-interval, -duration and -timeout must be positive")
	}
	_, err := parseSrc(o.src)
	return err
}

// result is the JSON printed at the end.
type result struct {
	PeersTarget    int            `json:"peers_target"`
	Connected      int64          `json:"connected"`
	Welcomed       int64          `json:"welcomed"`
	ConnectedAtEnd int64          `json:"connected_at_end"`
	Errors         int64          `json:"errors"`
	ErrorKinds     map[string]int `json:"error_kinds,omitempty"`
	ErrorSample    []string       `json:"error_sample,omitempty"`
	Sent           int64          `json:"messages_sent"`
	Received       int64          `json:"messages_received"`
	PeersAnswers   int64          `json:"peers_answers"`
	ConnectSeconds float64        `json:"connect_seconds"`
	WallSeconds    float64        `json:"wall_seconds"`
}

type stats struct {
	connected, welcomed, open, sent, received, answers atomic.Int64
	closing                                            atomic.Bool // run is closing the peers

	mu     sync.Mutex
	kinds  map[string]int
	sample []string
	errs   int64
}

func (s *stats) fail(kind string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs++
	s.kinds[kind]++
	if len(s.sample) < 10 {
		s.sample = append(s.sample, fmt.Sprintf("%s: %v", kind, err))
	}
}

// loadPeer is one simulated viewer.
type loadPeer struct {
	i    int
	conn *websocket.Conn
	seq  uint64
}

// run connects the peers, holds them for o.duration and reports.
func run(ctx context.Context, o options) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	srcs, err := parseSrc(o.src)
	if err != nil {
		return nil, err
	}
	clients := httpClients(srcs)
	st := &stats{kinds: make(map[string]int)}
	start := time.Now()

	var mu sync.Mutex
	peers := make([]*loadPeer, 0, o.peers)
	var readers sync.WaitGroup
	sem := make(chan struct{}, o.dialers)
	pace := time.NewTicker(time.Duration(float64(time.Second) / o.rate))
	var dials sync.WaitGroup
	for i := 0; i < o.peers && ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
		case <-pace.C:
		}
		sem <- struct{}{}
		dials.Add(1)
		go func() {
			defer dials.Done()
			defer func() { <-sem }()
			p, err := connect(ctx, o, clients[i%len(clients)], i, st)
			if err != nil {
				return
			}
			mu.Lock()
			peers = append(peers, p)
			mu.Unlock()
			readers.Add(1)
			go func() {
				defer readers.Done()
				p.read(ctx, st)
			}()
		}()
	}
	dials.Wait()
	pace.Stop()
	connectSecs := time.Since(start).Seconds()
	if o.ready != "" {
		_ = os.WriteFile(o.ready, []byte(fmt.Sprintf("%d\n", st.connected.Load())), 0o644)
	}
	hold(ctx, o, peers, st)
	res := &result{PeersTarget: o.peers, Connected: st.connected.Load(), Welcomed: st.welcomed.Load(),
		ConnectedAtEnd: st.open.Load(), Sent: st.sent.Load(), Received: st.received.Load(),
		PeersAnswers: st.answers.Load(), ConnectSeconds: connectSecs}
	st.closing.Store(true)
	for _, p := range peers {
		_ = p.conn.CloseNow()
	}
	readers.Wait()
	res.WallSeconds = time.Since(start).Seconds()
	st.mu.Lock()
	res.Errors, res.ErrorKinds, res.ErrorSample = st.errs, st.kinds, st.sample
	st.mu.Unlock()
	return res, nil
}

// connect dials, joins a swarm and announces the first segments.
func connect(ctx context.Context, o options, hc *http.Client, i int, st *stats) (*loadPeer, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, o.url, &websocket.DialOptions{
		HTTPClient: hc, Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		st.fail("dial", err)
		return nil, err
	}
	conn.SetReadLimit(wire.MaxMessageBytes)
	st.connected.Add(1)
	st.open.Add(1)
	p := &loadPeer{i: i, conn: conn, seq: uint64(rand.IntN(50))}
	swarm := fmt.Sprintf("vod/load%d/v720", i%o.swarms)
	if len(o.swarmList) > 0 {
		swarm = o.swarmList[i%len(o.swarmList)]
	}
	if err := p.send(dctx, st, &wire.JoinMsg{Swarm: swarm, Upload: true}); err != nil {
		st.fail("join", err)
		st.open.Add(-1)
		_ = conn.CloseNow()
		return nil, err
	}
	return p, nil
}

func (p *loadPeer) send(ctx context.Context, st *stats, m wire.Message) error {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.conn.Write(wctx, websocket.MessageText, wire.MustEncode(m)); err != nil {
		return err
	}
	st.sent.Add(1)
	return nil
}

// read consumes tracker messages until the socket closes.
func (p *loadPeer) read(ctx context.Context, st *stats) {
	defer st.open.Add(-1)
	for {
		_, b, err := p.conn.Read(ctx)
		if err != nil {
			switch {
			case st.closing.Load() || ctx.Err() != nil:
			case websocket.CloseStatus(err) != -1:
				st.fail(fmt.Sprintf("closed_%d", websocket.CloseStatus(err)), err)
			default:
				st.fail("read", err)
			}
			return
		}
		st.received.Add(1)
		m, err := wire.DecodeTrackerMessage(b)
		switch m := m.(type) {
		case *wire.WelcomeMsg:
			st.welcomed.Add(1)
		case *wire.PeersMsg:
			st.answers.Add(1)
		case *wire.ErrorMsg:
			st.fail("error_"+m.Code, errors.New(m.Msg))
		case nil:
			if err != nil {
				st.fail("decode", err)
			}
		}
	}
}

// hold sends have and want from every peer once per interval (spread
// evenly) until the duration is over. Writes use the run's ctx: a write
// context ending mid-write closes the socket.
func hold(ctx context.Context, o options, peers []*loadPeer, st *stats) {
	if o.duration <= 0 || len(peers) == 0 {
		return
	}
	hctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	step := o.interval / time.Duration(len(peers))
	if step <= 0 {
		step = time.Nanosecond
	}
	tk := time.NewTicker(max(step, time.Millisecond))
	defer tk.Stop()
	perTick := max(1, int(time.Millisecond/max(step, time.Nanosecond)))
	for i := 0; ; {
		select {
		case <-hctx.Done():
			return
		case <-tk.C:
		}
		for range perTick {
			p := peers[i%len(peers)]
			i++
			p.seq++
			if p.send(ctx, st, &wire.HaveMsg{Ranges: []wire.Range{{p.seq - 1, p.seq - 1}}}) != nil {
				continue
			}
			_ = p.send(ctx, st, &wire.WantMsg{Seq: p.seq})
		}
	}
}

// parseSrc parses "a.b.c.d-a.b.c.e" (inclusive) into addresses.
func parseSrc(s string) ([]netip.Addr, error) {
	if s == "" {
		return nil, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		hi = lo
	}
	a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
	b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || !a.Is4() || !b.Is4() || b.Less(a) {
		return nil, fmt.Errorf("bad -src %q (want 127.0.0.2-127.0.0.50)", s)
	}
	var out []netip.Addr
	for x := a; ; x = x.Next() {
		out = append(out, x)
		if x == b || len(out) > 1<<16 {
			break
		}
	}
	return out, nil
}

// httpClients returns one client per source address (or one default).
func httpClients(srcs []netip.Addr) []*http.Client {
	if len(srcs) == 0 {
		return []*http.Client{{Transport: &http.Transport{}}}
	}
	out := make([]*http.Client, 0, len(srcs))
	for _, a := range srcs {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: a.AsSlice()}, Timeout: 30 * time.Second}
		out = append(out, &http.Client{Transport: &http.Transport{DialContext: d.DialContext}})
	}
	return out
}
