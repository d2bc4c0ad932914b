package live

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	clock := newFakeClock()
	m := newTestManager(t, Config{Registerer: reg, Now: clock.Now})
	p, err := m.Publish("class1")
	if err != nil {
		t.Fatal(err)
	}
	feed(t, p, stream{fps: 30, gop: 2 * time.Second, dur: 4 * time.Second, video: true, audio: true})
	if _, err := m.Remote("relayed"); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []string{"a", "b"} {
		req := httptest.NewRequest(http.MethodGet, "/live/class1/audio/media.m3u8", nil)
		req.Header.Set("User-Agent", ua)
		m.Handler().ServeHTTP(httptest.NewRecorder(), req)
	}
	want := map[string]float64{
		"classmesh_live_viewers":           2,
		"classmesh_live_blocking_requests": 0,
	}
	for name, v := range want {
		if got := gatherValue(t, reg, name, nil); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if got := gatherValue(t, reg, "classmesh_live_sessions", map[string]string{"role": "published"}); got != 1 {
		t.Errorf("published sessions %v", got)
	}
	if got := gatherValue(t, reg, "classmesh_live_sessions", map[string]string{"role": "relayed"}); got != 1 {
		t.Errorf("relayed sessions %v", got)
	}
	if got := gatherValue(t, reg, "classmesh_live_parts_total", map[string]string{"rendition": "video"}); got < 7 {
		t.Errorf("%v video parts", got)
	}
	if got := gatherValue(t, reg, "classmesh_live_ingest_bytes_total", map[string]string{"session": "class1"}); got < 100_000 {
		t.Errorf("%v ingest bytes", got)
	}
}

// gatherValue returns the value of the first sample of metric name whose
// labels include labels.
func gatherValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, mt := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range mt.GetLabel() {
					found = found || lp.GetName() == k && lp.GetValue() == v
				}
				if !found {
					continue metric
				}
			}
			if g := mt.GetGauge(); g != nil {
				return g.GetValue()
			}
			return mt.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s %v", name, labels)
	return 0
}
