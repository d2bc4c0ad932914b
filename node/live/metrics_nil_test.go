package live

import "testing"

// TestMetricsNilRegisterer checks the metrics rule: a nil Registerer means
// a private registry, so the metrics exist and every method records.
func TestMetricsNilRegisterer(t *testing.T) {
	met, err := newMetrics(nil, nil)
	if err != nil || met == nil {
		t.Fatalf("newMetrics(nil) = %v, %v", met, err)
	}
	met.ingest("s", 10)
	met.part("video")
	met.hold(1)
	met.forget("s")
}
