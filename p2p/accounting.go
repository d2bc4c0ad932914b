package p2p

import (
	"net/netip"
	"sync"
	"time"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Accounting windows.
const (
	egressSlots  = 10 // seconds of egress history (spike detection)
	offloadSlots = 30 // buckets of the offload window
	noSite       = "none"
)

// assetWindow is the served and played bytes of one asset label over the
// offload window.
type assetWindow struct {
	served, played [offloadSlots]int64
}

// accounting keeps the edge's own served-bytes count against the bytes
// viewers report as played, per asset and site, and the node's egress.
type accounting struct {
	m *metrics

	mu        sync.Mutex
	assets    *labelSet
	sites     *labelSet
	windows   map[string]*assetWindow
	pos       int       // current offload bucket
	nextRot   time.Time // when pos advances
	bucketDur time.Duration
	egress    [egressSlots]int64
	egressSec int64 // unix second of egress[egressSec%egressSlots]
}

func newAccounting(m *metrics, cfg *Config, now time.Time) *accounting {
	d := cfg.OffloadWindow / offloadSlots
	if d <= 0 {
		d = time.Second
	}
	return &accounting{m: m, assets: newLabelSet(cfg.MaxAssetLabels), sites: newLabelSet(cfg.MaxSiteLabels),
		windows: make(map[string]*assetWindow), bucketDur: d, nextRot: now.Add(d), egressSec: now.Unix()}
}

// assetLabel is the asset label of a swarm: the asset id for VOD,
// "live:{session}" for live.
func assetLabel(swarm string) string {
	kind, name, _, ok := wire.SplitSwarm(swarm)
	switch {
	case !ok:
		return ""
	case kind == wire.KindLive:
		return "live:" + name
	}
	return name
}

// labelsLocked maps raw asset and site names to capped label values.
func (a *accounting) labelsLocked(asset, site string) (string, string) {
	if site == "" {
		site = noSite
	}
	return a.assets.get(asset), a.sites.get(site)
}

func (a *accounting) windowLocked(label string) *assetWindow {
	w := a.windows[label]
	if w == nil {
		w = &assetWindow{}
		a.windows[label] = w
	}
	return w
}

// served counts bytes the edge served over HTTP.
func (a *accounting) served(swarm, site string, n int64, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.addEgressLocked(n, now)
	asset := assetLabel(swarm)
	if asset == "" {
		return
	}
	al, sl := a.labelsLocked(asset, site)
	a.m.servedHTTP.WithLabelValues(al, sl).Add(float64(n))
	a.windowLocked(al).served[a.pos] += n
}

// played counts bytes a viewer reported as played from source.
func (a *accounting) played(swarm, site, source string, n int64) {
	asset := assetLabel(swarm)
	if asset == "" || n <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	al, sl := a.labelsLocked(asset, site)
	a.m.played.WithLabelValues(al, sl, source).Add(float64(n))
	a.windowLocked(al).played[a.pos] += n
}

func (a *accounting) addEgressLocked(n int64, now time.Time) {
	sec := now.Unix()
	a.advanceEgressLocked(sec)
	if sec < a.egressSec-egressSlots+1 {
		return // too old to matter
	}
	a.egress[sec%egressSlots] += n
}

// advanceEgressLocked zeroes the slots of seconds that went by.
func (a *accounting) advanceEgressLocked(sec int64) {
	for a.egressSec < sec {
		a.egressSec++
		a.egress[a.egressSec%egressSlots] = 0
		if sec-a.egressSec > egressSlots {
			a.egressSec = sec - egressSlots
		}
	}
}

// egressRate is the node's served bytes per second over the last
// egressSlots complete seconds.
func (a *accounting) egressRate(now time.Time) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	sec := now.Unix()
	a.advanceEgressLocked(sec)
	var sum int64
	for i := int64(1); i <= egressSlots; i++ {
		sum += a.egress[(sec-i)%egressSlots]
	}
	return float64(sum) / egressSlots
}

// tick advances the offload window and refreshes the ratio gauges.
func (a *accounting) tick(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for !now.Before(a.nextRot) {
		a.pos = (a.pos + 1) % offloadSlots
		for _, w := range a.windows {
			w.served[a.pos], w.played[a.pos] = 0, 0
		}
		a.nextRot = a.nextRot.Add(a.bucketDur)
		if now.Sub(a.nextRot) > a.bucketDur*offloadSlots {
			a.nextRot = now.Add(a.bucketDur)
		}
	}
	for label, w := range a.windows {
		var s, p int64
		for i := range offloadSlots {
			s += w.served[i]
			p += w.played[i]
		}
		if p == 0 && s == 0 {
			a.m.offload.DeleteLabelValues(label)
			delete(a.windows, label)
			continue
		}
		a.m.offload.WithLabelValues(label).Set(offloadRatio(s, p))
	}
}

// offloadRatio is 1 - served/played clamped to [0,1] (served can exceed
// played when viewers outside the swarm fetch the same asset).
func offloadRatio(served, played int64) float64 {
	if played <= 0 {
		return 0
	}
	r := 1 - float64(served)/float64(played)
	switch {
	case r < 0:
		return 0
	case r > 1:
		return 1
	}
	return r
}

// siteOf names the site of a client address for accounting.
func (t *Tracker) siteOf(a netip.Addr) string {
	if t.cfg.Sites == nil || !a.IsValid() {
		return ""
	}
	name, _, ok := t.cfg.Sites.Site(a.Unmap())
	if !ok {
		return ""
	}
	return name
}
