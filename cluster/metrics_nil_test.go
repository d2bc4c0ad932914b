package cluster

import "testing"

// TestMetricsNilRegisterer checks the metrics rule: a nil Registerer means
// a private registry, so the metrics exist and every method records.
func TestMetricsNilRegisterer(t *testing.T) {
	m, err := newMetrics(nil)
	if err != nil || m == nil {
		t.Fatalf("newMetrics(nil) = %v, %v", m, err)
	}
	m.setMembers(map[string]int{StateAlive: 1})
	m.verified("ok")
}
