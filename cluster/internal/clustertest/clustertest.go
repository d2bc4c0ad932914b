// Package clustertest starts the pieces the cluster protocol packages
// (cluster/fill, cluster/relay) test against: transports of one shared
// test cluster on 127.0.0.1:0, and metric reads. It is for tests only.
package clustertest

import (
	"sync"
	"testing"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var (
	caOnce sync.Once
	ca     *transport.CA
	caErr  error
)

// CA returns the certificate authority every transport of the test
// cluster shares, derived once per process.
func CA(t testing.TB) *transport.CA {
	caOnce.Do(func() { ca, caErr = transport.DeriveCA("fill-test-secret-0123456789") })
	if caErr != nil {
		t.Fatal(caErr)
	}
	return ca
}

// Transport starts a Transport named id on 127.0.0.1:0, closed when the
// test ends.
func Transport(t testing.TB, id string) *transport.Transport {
	t.Helper()
	tr, err := transport.New(transport.Config{NodeID: id, CA: CA(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// Value reads a gauge or counter; -1 when it cannot be read.
func Value(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return -1
	}
	if d.Gauge != nil {
		return d.Gauge.GetValue()
	}
	return d.Counter.GetValue()
}

// Marshal encodes m, failing the test on error.
func Marshal(t testing.TB, m interface{ MarshalBinary() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
