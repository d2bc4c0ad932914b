package node

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/access"
)

// TestScrubFamilies: label values naming private assets, sessions, swarms
// and relay tracks become "private", the series they share are merged,
// public ones are kept, and gathering twice works (the collectors' own
// label pairs are never modified).
func TestScrubFamilies(t *testing.T) {
	pol := access.New(access.Snapshot{
		Courses:  []control.Course{{ID: "pub", Visibility: "public"}, {ID: "priv", Visibility: "private"}},
		Lessons:  []control.Lesson{{CourseID: "pub", AssetID: "open"}, {CourseID: "priv", AssetID: "closed"}, {CourseID: "priv", AssetID: "closed2"}},
		Sessions: []control.LiveSession{{ID: "lpub", CourseID: "pub"}, {ID: "lpriv", CourseID: "priv"}, {ID: "lpriv2", CourseID: "priv"}},
	}, access.Options{})
	reg := prometheus.NewRegistry()
	swarm := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "swarm_peers"}, []string{"swarm"})
	played := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "played_total"}, []string{"asset", "site"})
	ratio := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "offload_ratio"}, []string{"asset"})
	ingest := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ingest_total"}, []string{"session"})
	subs := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "subscribers"}, []string{"track"})
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "h", Buckets: []float64{1, 2}}, []string{"session"})
	reg.MustRegister(swarm, played, ratio, ingest, subs, hist)
	swarm.WithLabelValues("vod/closed/v").Set(2)
	swarm.WithLabelValues("vod/closed2/v").Set(3)
	swarm.WithLabelValues("live/lpriv/video").Set(1)
	swarm.WithLabelValues("vod/open/v").Set(4)
	played.WithLabelValues("closed", "none").Add(10)
	played.WithLabelValues("closed2", "none").Add(5)
	played.WithLabelValues("live:lpriv", "none").Add(1)
	played.WithLabelValues("open", "none").Add(7)
	played.WithLabelValues("other", "none").Add(1)
	ratio.WithLabelValues("closed").Set(0.5)
	ratio.WithLabelValues("closed2").Set(0.7)
	ingest.WithLabelValues("lpriv").Add(100)
	ingest.WithLabelValues("lpriv2").Add(50)
	ingest.WithLabelValues("lpub").Add(1)
	subs.WithLabelValues("lpriv/video").Set(1)
	subs.WithLabelValues("lpub/video").Set(1)
	hist.WithLabelValues("lpriv").Observe(1.5)
	hist.WithLabelValues("lpriv2").Observe(0.5)

	var text string
	for range 2 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, mf := range scrubFamilies(pol, mfs) {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
		text = b.String()
	}
	for _, want := range []string{
		`swarm_peers{swarm="private"} 6`,
		`swarm_peers{swarm="vod/open/v"} 4`,
		`played_total{asset="private",site="none"} 16`,
		`played_total{asset="open",site="none"} 7`,
		`played_total{asset="other",site="none"} 1`,
		`offload_ratio{asset="private"} 0.7`,
		`ingest_total{session="private"} 150`,
		`ingest_total{session="lpub"} 1`,
		`subscribers{track="private"} 1`,
		`subscribers{track="lpub/video"} 1`,
		`h_count{session="private"} 2`,
		`h_bucket{session="private",le="1"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("missing %s in:\n%s", want, text)
		}
	}
	for _, secret := range []string{"closed", "lpriv"} {
		if strings.Contains(text, secret) {
			t.Errorf("metrics name %q:\n%s", secret, text)
		}
	}
}
