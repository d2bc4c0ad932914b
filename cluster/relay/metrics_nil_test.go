package relay

import "testing"

// TestRelayMetricsNilRegisterer checks the metrics rule: a nil Registerer
// means a private registry.
func TestRelayMetricsNilRegisterer(t *testing.T) {
	if _, err := newRelayMetrics(nil); err != nil {
		t.Fatal(err)
	}
}
