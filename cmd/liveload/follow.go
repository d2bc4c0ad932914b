package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxBody bounds every response liveload reads.
const maxBody = 32 << 20

// get fetches url and returns its body on 200.
func get(ctx context.Context, c *http.Client, url string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, fmt.Errorf("liveload: GET %s: %d", url, resp.StatusCode)
	}
	return body, resp.StatusCode, nil
}

// partSeen is one part as an observer saw it.
type partSeen struct {
	listed   time.Time // the playlist that first listed it arrived
	mediaEnd float64   // seconds (tfdt + durations); NaN-free only when fetched
	start    float64   // seconds (tfdt)
	fetched  bool
}

// observer follows one node's LL-HLS media playlist with blocking reloads,
// as a low-latency player does, and records when each part is first listed.
// Parts already listed when it attached are not timed. Each new part is
// fetched once (in the background) to read its media times.
type observer struct {
	client *http.Client
	base   string // .../live/{session}/video
	fetch  bool

	mu    sync.Mutex
	parts map[partKey]*partSeen
	pdt   map[int]time.Time
	scale uint32
	errs  int
}

func newObserver(c *http.Client, base string, fetch bool) *observer {
	return &observer{client: c, base: base, fetch: fetch, parts: map[partKey]*partSeen{}, pdt: map[int]time.Time{}}
}

// run follows the playlist until ctx ends or the stream ends.
func (o *observer) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	queue := make(chan partKey, 4096)
	defer close(queue)
	if o.fetch {
		wg.Go(func() { o.fetchParts(ctx, queue) })
	}
	pl, ok := o.attach(ctx)
	if !ok {
		return
	}
	known := map[partKey]bool{}
	for _, k := range pl.parts {
		known[k] = true
	}
	for ctx.Err() == nil && pl.hasHint && !pl.ended {
		url := fmt.Sprintf("%s/media.m3u8?_HLS_msn=%d&_HLS_part=%d", o.base, pl.hint.msn, pl.hint.part)
		body, code, err := get(ctx, o.client, url)
		now := time.Now()
		if err != nil {
			o.noteErr(ctx, code)
			continue
		}
		next := parseLLHLS(string(body))
		if !next.hasHint && !next.ended {
			o.noteErr(ctx, 0)
			continue
		}
		pl = next
		o.record(pl, known, now, queue)
	}
}

// attach polls the plain playlist until it is served.
func (o *observer) attach(ctx context.Context) (llPlaylist, bool) {
	for ctx.Err() == nil {
		body, _, err := get(ctx, o.client, o.base+"/media.m3u8")
		if err == nil {
			if pl := parseLLHLS(string(body)); pl.hasHint {
				o.mu.Lock()
				for m, t := range pl.pdt {
					o.pdt[m] = t
				}
				o.mu.Unlock()
				return pl, true
			}
		}
		sleep(ctx, 50*time.Millisecond)
	}
	return llPlaylist{}, false
}

// record notes the parts of pl not seen before as listed at now.
func (o *observer) record(pl llPlaylist, known map[partKey]bool, now time.Time, queue chan<- partKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for m, t := range pl.pdt {
		o.pdt[m] = t
	}
	for _, k := range pl.parts {
		if known[k] {
			continue
		}
		known[k] = true
		o.parts[k] = &partSeen{listed: now}
		if o.fetch {
			select {
			case queue <- k:
			default:
			}
		}
	}
}

func (o *observer) noteErr(ctx context.Context, code int) {
	o.mu.Lock()
	o.errs++
	o.mu.Unlock()
	if code != http.StatusServiceUnavailable { // 503 = blocking timeout
		sleep(ctx, 50*time.Millisecond)
	}
}

// fetchParts reads the init once, then each queued part's media times.
func (o *observer) fetchParts(ctx context.Context, queue <-chan partKey) {
	for k := range queue {
		if ctx.Err() != nil {
			continue // drain
		}
		if o.scale == 0 {
			init, _, err := get(ctx, o.client, o.base+"/init.mp4")
			if err != nil {
				continue
			}
			if o.scale, err = initTimescale(init); err != nil {
				continue
			}
		}
		data, _, err := get(ctx, o.client, fmt.Sprintf("%s/part-%d.%d.m4s", o.base, k.msn, k.part))
		if err != nil {
			continue
		}
		start, dur, err := fragmentSpan(data)
		if err != nil {
			continue
		}
		o.mu.Lock()
		p := o.parts[k]
		p.start, p.mediaEnd = float64(start)/float64(o.scale), float64(start+dur)/float64(o.scale)
		p.fetched = true
		o.mu.Unlock()
	}
}

// snapshot returns copies of the parts and program date times seen.
func (o *observer) snapshot() (map[partKey]partSeen, map[int]time.Time, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	parts := make(map[partKey]partSeen, len(o.parts))
	for k, p := range o.parts {
		parts[k] = *p
	}
	pdt := make(map[int]time.Time, len(o.pdt))
	for k, t := range o.pdt {
		pdt[k] = t
	}
	return parts, pdt, o.errs
}

// tsSeg is one nginx-rtmp segment as the poller saw it.
type tsSeg struct {
	listed   time.Time
	mediaEnd float64 // sum of EXTINF up to and including it, from the first segment
	dur      float64 // its EXTINF
}

// tsPoller polls a plain HLS playlist (nginx-rtmp cannot block) every
// interval and records when each segment is first listed.
type tsPoller struct {
	client   *http.Client
	url      string
	interval time.Duration
	segs     map[int]tsSeg
	first    int
	ends     map[int]float64
	late     bool // attached after the first segment: timeline unknown
}

func (p *tsPoller) run(ctx context.Context) {
	p.segs, p.ends, p.first = map[int]tsSeg{}, map[int]float64{}, -1
	for ctx.Err() == nil {
		body, _, err := get(ctx, p.client, p.url)
		now := time.Now()
		if err == nil {
			p.note(parseTS(string(body)), now)
		}
		sleep(ctx, p.interval)
	}
}

// note records new segments; media end of segment n is the sum of the
// EXTINF of segments first..n (all are seen: the window is longer than
// the polling interval).
func (p *tsPoller) note(pl tsPlaylist, now time.Time) {
	if len(pl.durs) == 0 {
		return
	}
	if p.first < 0 {
		p.first, p.late = pl.seq, len(pl.durs) > 1
	}
	for i, d := range pl.durs {
		n := pl.seq + i
		if _, ok := p.ends[n]; ok || n < p.first {
			continue
		}
		prev, ok := p.ends[n-1]
		if !ok && n != p.first {
			continue // a gap: cannot place it on the timeline
		}
		p.ends[n] = prev + d
		p.segs[n] = tsSeg{listed: now, mediaEnd: p.ends[n], dur: d}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
