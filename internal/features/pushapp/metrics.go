package pushapp

import (
	"github.com/parleyim/parley/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

var mDeliveries = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "parley_push_deliveries_total",
	Help: "Notifications published to the built-in push app server, by provider (apns, fcm) and result " +
		"(delivered, unregistered, retry, failed, bad-secret, unknown-node, queue-full).",
}, []string{"provider", "result"}))
