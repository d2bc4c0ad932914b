package transport

import "testing"

// TestMetricsNilRegisterer checks the metrics rule: a nil Registerer means
// a private registry, so the metrics exist and every method records.
func TestMetricsNilRegisterer(t *testing.T) {
	m, err := newMetrics(nil)
	if err != nil || m == nil {
		t.Fatalf("newMetrics(nil) = %v, %v", m, err)
	}
	m.connOpened()
	m.connClosed()
	m.stream("x/1")
	m.refuse("r")
}
