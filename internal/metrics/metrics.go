// Package metrics holds Parley's Prometheus registry and its HTTP handler.
// Each package declares its own collectors (in its metrics.go) and registers
// them here with Register; this package knows none of them.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var registry = prometheus.NewRegistry()

func init() {
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Register adds c to the registry and returns it, for use in var blocks.
func Register[C prometheus.Collector](c C) C {
	registry.MustRegister(c)
	return c
}

// Handler serves the registry in the Prometheus text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(registry, promhttp.HandlerOpts{})
}

// Gatherer exposes the registry for tests.
func Gatherer() prometheus.Gatherer { return registry }
