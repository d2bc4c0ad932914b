package relay

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/transport"
)

// ErrClosed is returned by a closed relay and ends the subscriptions of
// a relay that closes. It is cluster.ErrClosed, so errors.Is holds for
// either name.
var ErrClosed = cluster.ErrClosed

// Relay moves objects on named tracks between nodes over RelayALPN. A node
// publishes tracks it produces; any node subscribes through the publisher
// or through a relay parent, with one upstream subscription per track
// however many local and remote subscribers it serves. See RELAY.md.
type Relay struct {
	t    *transport.Transport
	self string // this node's ID, for loop detection
	cfg  RelayConfig
	log  *slog.Logger
	m    *relayMetrics
	now  func() time.Time

	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // handlers and upstream goroutines

	mu       sync.Mutex
	closed   bool
	pubs     map[string]*relayHub // published here
	ups      map[string]*relayHub // fed by an upstream subscription
	servings map[relayServingKey]*relayServing
	perTrack map[string]int // subscribers per track name, for the gauge
	resolver func(track string) (string, bool)
}

// NewRelay returns a relay serving RelayALPN on t. It registers its
// handler at once: create it before peers subscribe.
func NewRelay(t *transport.Transport, cfg RelayConfig) (*Relay, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil transport", ErrBadRelayConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newRelayMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Relay{
		t: t, self: t.NodeID(), cfg: cfg, log: cfg.Logger, m: m, now: cfg.Now,
		ctx: ctx, cancel: cancel,
		pubs: map[string]*relayHub{}, ups: map[string]*relayHub{},
		servings: map[relayServingKey]*relayServing{}, perTrack: map[string]int{},
	}
	t.Handle(RelayALPN, r.handle)
	return r, nil
}

// SetResolver sets how this node finds the upstream of a track it does
// not publish when a peer subscribes to it: f returns the QUIC address to
// subscribe through, or false when the track is unknown. Without a
// resolver such subscriptions fail with ErrTrackNotFound.
func (r *Relay) SetResolver(f func(track string) (upstream string, ok bool)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resolver = f
}

// Publish makes this node the source of track. Objects written to the
// returned publisher reach every current subscriber, local and remote.
func (r *Relay) Publish(track string) (*TrackPublisher, error) {
	if err := validTrack(track); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if r.pubs[track] != nil {
		return nil, fmt.Errorf("%w: %q", ErrTrackExists, track)
	}
	h := newRelayHub(track, &r.cfg, r.m, false)
	r.pubs[track] = h
	return &TrackPublisher{r: r, h: h}, nil
}

// Subscribe subscribes to track. A track published here is read locally;
// a track already subscribed upstream is shared; otherwise this node
// subscribes through from (the QUIC address of the publisher or of a
// relay parent). ctx bounds only the subscribing itself.
//
// Errors: ErrTrackNotFound, ErrRelayRefused, ErrRelayUpstream (could not
// reach from), ErrClosed, or ctx's error.
func (r *Relay) Subscribe(ctx context.Context, from string, track string) (*Subscription, error) {
	if err := validTrack(track); err != nil {
		return nil, err
	}
	h, err := r.acquire(ctx, from, track, []string{r.self})
	if err != nil {
		return nil, err
	}
	return newSubscription(r, h), nil
}

// Close ends every track served here (subscribers get ErrClosed), closes
// the upstream subscriptions and waits for the relay's goroutines.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	var hubs []*relayHub
	var ups []*relayUpstream
	for _, h := range r.pubs {
		hubs = append(hubs, h)
	}
	for _, h := range r.ups {
		hubs = append(hubs, h)
		if h.up != nil {
			ups = append(ups, h.up)
		}
	}
	r.mu.Unlock()
	r.cancel()
	for _, h := range hubs {
		h.end(ErrClosed)
	}
	for _, u := range ups {
		u.close()
	}
	r.wg.Wait()
	return nil
}

// acquire returns the hub of track with one more subscriber, connecting
// upstream through from when nobody here has the track yet. path lists
// the nodes the subscription passed, this one last.
func (r *Relay) acquire(ctx context.Context, from, track string, path []string) (*relayHub, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	if h := r.pubs[track]; h != nil {
		r.addSubLocked(h)
		r.mu.Unlock()
		return h, nil
	}
	h := r.ups[track]
	if h == nil {
		if from == "" {
			r.mu.Unlock()
			return nil, fmt.Errorf("%w: %q", ErrTrackNotFound, track)
		}
		h = newRelayHub(track, &r.cfg, r.m, true)
		h.ready = make(chan struct{})
		r.ups[track] = h
		r.wg.Add(1)
		go r.connect(h, from, path)
	}
	r.addSubLocked(h)
	r.mu.Unlock()
	select {
	case <-h.ready:
	case <-ctx.Done():
		r.release(h)
		return nil, ctx.Err()
	}
	if h.readyErr != nil { // written before ready closed
		r.release(h)
		return nil, h.readyErr
	}
	return h, nil
}

// connect subscribes h upstream through from and marks it ready.
func (r *Relay) connect(h *relayHub, from string, path []string) {
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.ConnectTimeout)
	u, err := dialRelayUpstream(ctx, r, h, from, path)
	cancel()
	r.mu.Lock()
	abandoned := r.closed || r.ups[h.track] != h // every subscriber left meanwhile
	if err == nil && abandoned {
		err = ErrClosed
		u.close()
	}
	if err != nil {
		if r.ups[h.track] == h {
			delete(r.ups, h.track)
		}
		h.readyErr = err
	} else {
		h.up = u
	}
	close(h.ready)
	r.mu.Unlock()
	if err == nil {
		u.start()
		return
	}
	h.end(err)
	r.log.Debug("relay: upstream subscribe failed", "track", h.track, "from", from, "err", err)
}

// addSubLocked counts one more subscriber of h.
func (r *Relay) addSubLocked(h *relayHub) {
	h.subs++
	r.perTrack[h.track]++
	r.m.subscribers.WithLabelValues(h.track).Set(float64(r.perTrack[h.track]))
}

// release drops one subscriber of h; the last one of an upstream-fed hub
// closes the upstream subscription.
func (r *Relay) release(h *relayHub) {
	r.mu.Lock()
	h.subs--
	if r.perTrack[h.track]--; r.perTrack[h.track] <= 0 {
		delete(r.perTrack, h.track)
		r.m.subscribers.DeleteLabelValues(h.track)
	} else {
		r.m.subscribers.WithLabelValues(h.track).Set(float64(r.perTrack[h.track]))
	}
	var u *relayUpstream
	if h.subs == 0 && h.remote {
		if r.ups[h.track] == h {
			delete(r.ups, h.track)
		}
		u, h.up = h.up, nil
	}
	r.mu.Unlock()
	if u != nil {
		u.close()
	}
}

// upstreamEnded forgets h as the shared hub of its track, so the next
// subscriber subscribes afresh.
func (r *Relay) upstreamEnded(h *relayHub) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ups[h.track] == h {
		delete(r.ups, h.track)
	}
}

// unpublish forgets h as the published hub of its track.
func (r *Relay) unpublish(h *relayHub) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pubs[h.track] == h {
		delete(r.pubs, h.track)
	}
}

// resolve asks the resolver for the upstream of track.
func (r *Relay) resolve(track string) string {
	r.mu.Lock()
	f := r.resolver
	r.mu.Unlock()
	if f == nil {
		return ""
	}
	if up, ok := f(track); ok {
		return up
	}
	return ""
}

// goTracked runs f on a goroutine counted in r.wg unless the relay is
// closed; it reports whether f runs.
func (r *Relay) goTracked(f func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
	return true
}

// newToken returns a random subscription token.
func newToken() uint64 { return rand.Uint64() }
