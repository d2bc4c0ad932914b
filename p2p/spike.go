package p2p

import (
	"sort"
	"time"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Hysteresis: spike mode ends only after SpikeCalm below these fractions
// of the thresholds.
const (
	calmSizeFrac   = 0.8
	calmEgressFrac = 0.7
)

// evaluateSpike updates node and swarm spike state, tells swarms whose
// mode changed and refreshes the swarm gauges.
func (t *Tracker) evaluateSpike(now time.Time) {
	t.updateNodeSpike(now)
	t.mu.Lock()
	swarms := make([]*swarm, 0, len(t.swarms))
	for _, sw := range t.swarms {
		swarms = append(swarms, sw)
	}
	t.mu.Unlock()

	type size struct {
		id string
		n  int
	}
	sizes := make([]size, 0, len(swarms))
	spiking := 0
	for _, sw := range swarms {
		sw.mu.Lock()
		n := len(sw.peers)
		t.updateSwarmSpike(sw, n, now)
		if sw.spike {
			spiking++
		}
		sw.mu.Unlock()
		sizes = append(sizes, size{sw.id, n})
	}
	sort.Slice(sizes, func(i, j int) bool { return sizes[i].n > sizes[j].n })
	t.m.swarmPeers.Reset()
	for i, s := range sizes {
		if i == topSwarms {
			break
		}
		t.m.swarmPeers.WithLabelValues(s.id).Set(float64(s.n))
	}
	t.m.swarmMax.Set(0)
	if len(sizes) > 0 {
		t.m.swarmMax.Set(float64(sizes[0].n))
	}
	t.m.swarms.Set(float64(len(swarms)))
	t.m.spikeSwarms.Set(float64(spiking))
	if t.nodeSpike.Load() || spiking > 0 {
		t.m.spike.Set(1)
	} else {
		t.m.spike.Set(0)
	}
}

func (t *Tracker) updateNodeSpike(now time.Time) {
	thr := t.cfg.SpikeEgressBytesPerSec
	if thr < 0 {
		t.nodeSpike.Store(false)
		return
	}
	rate := t.acct.egressRate(now)
	switch {
	case rate >= float64(thr):
		t.nodeSpike.Store(true)
		t.nodeCalmSince = time.Time{}
	case !t.nodeSpike.Load():
	case rate >= float64(thr)*calmEgressFrac:
		t.nodeCalmSince = time.Time{}
	case t.nodeCalmSince.IsZero():
		t.nodeCalmSince = now
	case now.Sub(t.nodeCalmSince) >= t.cfg.SpikeCalm:
		t.nodeSpike.Store(false)
		t.nodeCalmSince = time.Time{}
	}
}

// updateSwarmSpike applies the size threshold with hysteresis and sends
// config to the swarm when its mode changes. Caller holds sw.mu.
func (t *Tracker) updateSwarmSpike(sw *swarm, n int, now time.Time) {
	thr := t.cfg.SpikeSwarmSize
	switch {
	case thr < 0:
		sw.sizeSpike = false
	case n >= thr:
		sw.sizeSpike = true
		sw.calmSince = time.Time{}
	case !sw.sizeSpike:
	case float64(n) >= float64(thr)*calmSizeFrac:
		sw.calmSince = time.Time{}
	case sw.calmSince.IsZero():
		sw.calmSince = now
	case now.Sub(sw.calmSince) >= t.cfg.SpikeCalm:
		sw.sizeSpike = false
		sw.calmSince = time.Time{}
	}
	spike := sw.sizeSpike || t.nodeSpike.Load()
	if spike == sw.spike {
		return
	}
	sw.spike = spike
	sw.broadcastLocked(wire.MustEncode(&wire.ConfigMsg{Config: t.clientConfig(spike)}))
}
