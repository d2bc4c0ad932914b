package control

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsExported(t *testing.T) {
	reg := prometheus.NewRegistry()
	n := newTestNode(t, "solo", true, func(c *Config) { c.Registerer = reg })
	leaderOf(t, n)
	res := mustCreate(t, n.store, KindAsset, "a1", testAsset("a1"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		switch {
		case m.GetGauge() != nil:
			got[mf.GetName()] = m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			got[mf.GetName()] = m.GetCounter().GetValue()
		case m.GetHistogram() != nil:
			got[mf.GetName()] = float64(m.GetHistogram().GetSampleCount())
		}
	}
	if got["classmesh_catalog_applied_index"] < float64(res.Index) ||
		got["classmesh_catalog_leader_changes_total"] < 1 || got["classmesh_catalog_apply_seconds"] != 1 {
		t.Fatalf("metrics = %v", got)
	}
}
