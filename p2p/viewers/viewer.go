package viewers

import (
	"context"
	"net/url"
	"sync"
	"time"

	"github.com/classmesh/classmesh/p2p/peer"
)

// viewer is one emulated player: it fetches init and segments ahead of its
// playhead (within the buffer target) and plays them in real time by their
// EXTINF durations, counting stalls.
type viewer struct {
	r     *runner
	p     *peer.Peer
	start time.Time
	wg    sync.WaitGroup // fetch goroutines

	// play state, owned by the run goroutine
	segs     []Segment
	offs     []float64 // media start of each segment, seconds
	ready    []bool
	fetching []bool
	viaPeers []bool // fetch counted in peerFlt
	urgent   int    // fetches in flight outside the p2p window
	peerFlt  int    // fetches in flight inside the p2p window
	ended    bool   // no more segments will come
	play     int    // segment playing, or awaited
	playing  bool
	segEnd   time.Time
	stalled  bool
	stallAt  time.Time

	// results
	joined      bool
	started     bool
	startup     time.Duration
	stalls      int
	stallTime   time.Duration
	played      int
	initErr     bool
	fetchedSecs float64 // media seconds of the segments fetched
	stats       peer.Stats
	id          string   // tracker-assigned
	linked      []string // open data channels at the end (or at the last check)
}

type fetched struct{ i int }

// run plays until ctx ends or a VOD is over.
func (v *viewer) run(ctx context.Context) {
	v.start = time.Now()
	defer func() {
		v.finishStall(time.Now())
		v.stats, v.id, v.linked = v.p.Stats(), v.p.ID(), v.p.Linked()
	}()
	if v.r.cfg.P2P {
		jctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := v.p.Start(jctx)
		cancel()
		v.joined = err == nil
		if err != nil {
			v.r.log.Warn("swarm: join failed, HTTP only", "err", err)
		}
	}
	if v.r.media.Init != "" && !v.fetchInit(ctx) {
		v.initErr = true
		return
	}
	v.addSegments(v.r.media, true)
	ctx, cancel := context.WithCancel(ctx)
	defer v.wg.Wait()
	defer cancel()
	results := make(chan fetched, v.r.cfg.Parallel+v.r.cfg.PeerParallel)
	var reload <-chan time.Time
	if v.r.live {
		t := time.NewTicker(v.r.reloadEvery())
		defer t.Stop()
		reload = t.C
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		v.launch(ctx, results)
		var tick <-chan time.Time
		if v.playing {
			timer.Reset(time.Until(v.segEnd))
			tick = timer.C
		}
		select {
		case f := <-results:
			v.onFetched(f.i)
		case <-tick:
			if !v.next() {
				return
			}
		case <-reload:
			if m, err := v.r.loadMedia(ctx); err == nil {
				v.addSegments(m, false)
			}
		case <-ctx.Done():
			return
		}
	}
}

func (v *viewer) fetchInit(ctx context.Context) bool {
	u := v.r.resolve(v.r.media.Init)
	for ctx.Err() == nil {
		if _, err := v.p.GetHTTP(ctx, u); err == nil {
			return true
		}
		sleep(ctx, 500*time.Millisecond)
	}
	return false
}

// addSegments appends the segments of m not known yet; first (live) starts
// three segments from the live edge, as players do.
func (v *viewer) addSegments(m *Media, first bool) {
	segs := m.Segments
	if first && v.r.live && len(segs) > 3 {
		segs = segs[len(segs)-3:]
	}
	for _, s := range segs {
		if n := len(v.segs); n > 0 && s.Seq <= v.segs[n-1].Seq {
			continue
		}
		off := 0.0
		if n := len(v.segs); n > 0 {
			off = v.offs[n-1] + v.segs[n-1].Duration
		}
		v.segs = append(v.segs, s)
		v.offs = append(v.offs, off)
		v.ready = append(v.ready, false)
		v.fetching = append(v.fetching, false)
		v.viaPeers = append(v.viaPeers, false)
	}
	v.ended = m.Ended
	if v.stalled && v.play < len(v.segs) && v.ready[v.play] {
		v.resume()
	}
}

// pos is the playhead in media seconds.
func (v *viewer) pos(now time.Time) float64 {
	if v.play >= len(v.segs) {
		if n := len(v.segs); n > 0 {
			return v.offs[n-1] + v.segs[n-1].Duration
		}
		return 0
	}
	p := v.offs[v.play]
	if v.playing {
		p += v.segs[v.play].Duration - v.segEnd.Sub(now).Seconds()
	}
	return p
}

// launch starts fetches in order while the buffer target allows: a few
// urgent ones (over HTTP), and more inside the peer's p2p window, where
// they wait for neighbors to hold the segment. Until playback starts only
// the first segment is fetched (over HTTP, at once): the next ones are
// then due a segment duration later, inside the window, and are asked of
// peers instead of being taken over HTTP in parallel.
func (v *viewer) launch(ctx context.Context, results chan<- fetched) {
	now := time.Now()
	pos := v.pos(now)
	target := v.r.cfg.BufferTarget.Seconds()
	for i := v.play; i < len(v.segs); i++ {
		if v.urgent >= v.r.cfg.Parallel && v.peerFlt >= v.r.cfg.PeerParallel {
			return
		}
		if v.ready[i] || v.fetching[i] {
			continue
		}
		if !v.started && i > v.play {
			return // startup: only the first segment, over HTTP, at once
		}
		ahead := v.offs[i] - pos
		if i > v.play && ahead > target {
			return
		}
		lo, _ := v.p.PeerWindow(v.segs[i].Seq)
		peers := v.r.cfg.P2P && v.started && ahead >= lo.Seconds()
		if (peers && v.peerFlt >= v.r.cfg.PeerParallel) || (!peers && v.urgent >= v.r.cfg.Parallel) {
			continue
		}
		var playAt time.Time
		if v.started {
			playAt = now.Add(time.Duration(ahead * float64(time.Second)))
		}
		v.fetching[i], v.viaPeers[i] = true, peers
		if peers {
			v.peerFlt++
		} else {
			v.urgent++
		}
		req := peer.Request{Seq: v.segs[i].Seq, URL: v.r.resolve(v.segs[i].URI), PlayAt: playAt}
		v.wg.Add(1)
		go func() { defer v.wg.Done(); v.fetch(ctx, i, req, results) }()
	}
}

// fetch retries until the segment arrives or ctx ends; it always reports
// back so the run loop can count it.
func (v *viewer) fetch(ctx context.Context, i int, req peer.Request, results chan<- fetched) {
	for ctx.Err() == nil {
		if _, err := v.p.Fetch(ctx, req); err == nil {
			break
		}
		req.PlayAt = time.Time{}
		sleep(ctx, 300*time.Millisecond)
	}
	select {
	case results <- fetched{i: i}:
	case <-ctx.Done():
	}
}

func (v *viewer) onFetched(i int) {
	if v.viaPeers[i] {
		v.peerFlt--
	} else {
		v.urgent--
	}
	v.fetching[i] = false
	v.ready[i] = true
	v.fetchedSecs += v.segs[i].Duration
	if i != v.play || v.playing {
		return
	}
	now := time.Now()
	if !v.started {
		v.started = true
		v.startup = now.Sub(v.start)
		v.startPlaying(now)
		return
	}
	if v.stalled {
		v.resume()
	}
}

func (v *viewer) startPlaying(now time.Time) {
	v.playing = true
	v.segEnd = now.Add(time.Duration(v.segs[v.play].Duration * float64(time.Second)))
}

func (v *viewer) resume() {
	now := time.Now()
	v.finishStall(now)
	v.startPlaying(now)
}

func (v *viewer) finishStall(now time.Time) {
	if v.stalled {
		v.stallTime += now.Sub(v.stallAt)
		v.stalled = false
	}
}

// next moves to the following segment when one ends; false when the
// stream is over.
func (v *viewer) next() bool {
	v.played++
	v.playing = false
	v.play++
	now := time.Now()
	if v.play >= len(v.segs) && v.ended {
		return false
	}
	if v.play < len(v.segs) && v.ready[v.play] {
		v.startPlaying(now)
		return true
	}
	v.stalled, v.stallAt = true, now
	v.stalls++
	v.r.log.Debug("swarm: stall", "viewer", v.p.ID(), "segment", v.play, "of", len(v.segs), "inflight", v.urgent+v.peerFlt)
	return true
}

func (r *runner) resolve(ref string) string {
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	out := r.mediaURL.ResolveReference(u)
	if out.RawQuery == "" {
		out.RawQuery = r.mediaURL.RawQuery
	}
	return out.String()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
