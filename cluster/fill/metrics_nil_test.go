package fill

import "testing"

// TestFillMetricsNilRegisterer checks the metrics rule: a nil Registerer
// means a private registry.
func TestFillMetricsNilRegisterer(t *testing.T) {
	if _, err := newFillMetrics(nil); err != nil {
		t.Fatal(err)
	}
}
