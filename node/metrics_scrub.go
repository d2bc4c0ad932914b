package node

import (
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/classmesh/classmesh/control/access"
	"github.com/classmesh/classmesh/p2p/wire"
)

// /metrics names no private asset or session: every label whose value is
// an asset or session id (asset, session, swarm, track, from p2p, live and
// the relay) is rewritten at scrape time through the access policy, and
// series that then share their labels are merged. Doing it at exposition
// keeps one rule for every package and every label added later.

// mediaLabels maps a label name to how its value names media.
var mediaLabels = map[string]func(p *access.Policy, v string) string{
	// p2p: an asset id, or "live:{session}".
	"asset": func(p *access.Policy, v string) string {
		if s, ok := strings.CutPrefix(v, "live:"); ok {
			return keepOr(v, p.PublicSession(s))
		}
		return keepOr(v, v == "other" || p.PublicAsset(v))
	},
	// live: a session id.
	"session": func(p *access.Policy, v string) string { return keepOr(v, p.PublicSession(v)) },
	// p2p: "vod/{asset}/{rendition}" or "live/{session}/{rendition}".
	"swarm": func(p *access.Policy, v string) string {
		kind, name, _, ok := wire.SplitSwarm(v)
		switch {
		case !ok:
			return access.PrivateLabel
		case kind == wire.KindLive:
			return keepOr(v, p.PublicSession(name))
		}
		return keepOr(v, p.PublicAsset(name))
	},
	// relay: "{session}/{rendition}".
	"track": func(p *access.Policy, v string) string {
		s, _, _ := strings.Cut(v, "/")
		return keepOr(v, p.PublicSession(s))
	},
}

func keepOr(v string, public bool) string {
	if public {
		return v
	}
	return access.PrivateLabel
}

// scrubbedMetrics returns the registry as a Gatherer whose media labels
// name only public assets and sessions.
func (n *Node) scrubbedMetrics() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := n.registry.Gather()
		if n.catalog == nil {
			return mfs, err
		}
		return scrubFamilies(n.mediaAccess.policy(), mfs), err
	})
}

// scrubFamilies rewrites media labels and merges the series that end up
// with equal label sets. It replaces label pairs rather than modifying
// them (Gather shares them with the collectors); merged values are
// written into the first series' own value fields, which Gather creates
// afresh on every call.
func scrubFamilies(p *access.Policy, mfs []*dto.MetricFamily) []*dto.MetricFamily {
	for _, mf := range mfs {
		changed := false
		for _, m := range mf.Metric {
			for i, lp := range m.Label {
				f := mediaLabels[lp.GetName()]
				if f == nil {
					continue
				}
				if v := f(p, lp.GetValue()); v != lp.GetValue() {
					// The label pairs are shared with the live
					// collectors: replace, never modify them.
					labels := slices.Clone(m.Label)
					labels[i] = &dto.LabelPair{Name: lp.Name, Value: &v}
					m.Label = labels
					changed = true
				}
			}
		}
		if changed {
			mf.Metric = mergeSeries(mf.GetType(), strings.HasSuffix(mf.GetName(), "_ratio"), mf.Metric)
		}
	}
	return mfs
}

// mergeSeries merges metrics with equal labels: counters, gauges and
// untyped values add up (several private swarms' peers are the private
// peers), except gauges named *_ratio, which keep the largest;
// histograms add counts, sums and buckets; summaries add count and sum.
func mergeSeries(typ dto.MetricType, ratio bool, ms []*dto.Metric) []*dto.Metric {
	byKey := map[string]*dto.Metric{}
	var out []*dto.Metric
	for _, m := range ms {
		k := labelKey(m)
		into := byKey[k]
		if into == nil {
			byKey[k] = m
			out = append(out, m)
			continue
		}
		switch typ {
		case dto.MetricType_COUNTER:
			v := into.GetCounter().GetValue() + m.GetCounter().GetValue()
			into.Counter.Value = &v
		case dto.MetricType_GAUGE:
			a, b := into.GetGauge().GetValue(), m.GetGauge().GetValue()
			v := a + b
			if ratio {
				v = max(a, b)
			}
			into.Gauge.Value = &v
		case dto.MetricType_UNTYPED:
			v := into.GetUntyped().GetValue() + m.GetUntyped().GetValue()
			into.Untyped.Value = &v
		case dto.MetricType_HISTOGRAM:
			h, o := into.Histogram, m.GetHistogram()
			c, s := h.GetSampleCount()+o.GetSampleCount(), h.GetSampleSum()+o.GetSampleSum()
			h.SampleCount, h.SampleSum = &c, &s
			if len(h.Bucket) == len(o.Bucket) {
				for i, b := range h.Bucket {
					v := b.GetCumulativeCount() + o.Bucket[i].GetCumulativeCount()
					b.CumulativeCount = &v
				}
			}
		case dto.MetricType_SUMMARY:
			s, o := into.Summary, m.GetSummary()
			c, sum := s.GetSampleCount()+o.GetSampleCount(), s.GetSampleSum()+o.GetSampleSum()
			s.SampleCount, s.SampleSum, s.Quantile = &c, &sum, nil
		}
	}
	return out
}

func labelKey(m *dto.Metric) string {
	parts := make([]string, 0, len(m.Label))
	for _, lp := range m.Label {
		parts = append(parts, lp.GetName()+"\x00"+lp.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, "\x01")
}
