// Package promreg registers the metrics of the cluster protocols
// (cluster/fill, cluster/relay) so that two instances sharing one
// registry (several nodes in one test process, a relay re-created after
// a restart) share their collectors instead of failing.
package promreg

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c, or returns the collector already registered
// under the same description. Any other registration error is returned
// wrapped, prefixed by the caller's package name ("cluster: ...").
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	var zero C
	return zero, fmt.Errorf("cluster: register metrics: %w", err)
}
