package c2s

import (
	"github.com/parleyim/parley/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	mConnections = metrics.Register(prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_c2s_connections", Help: "Open client connections, authenticated or not.",
	}))
	mSessions = metrics.Register(prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_c2s_sessions", Help: "Bound client sessions.",
	}))
	mStanzas = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_stanzas_total", Help: "Stanzas read from and written to clients, by direction and kind.",
	}, []string{"direction", "kind"}))
	mAuth = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_auth_total", Help: "SASL authentication attempts by result and mechanism.",
	}, []string{"result", "mechanism"}))
	mSASLFailures = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_sasl_failures_total",
		Help: "SASL failures sent to clients, by reason (wrong-password, downgrade, binding-unsupported, unknown-mechanism, malformed, ...) and mechanism.",
	}, []string{"reason", "mechanism"}))
	mStreamErrors = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_stream_errors_total", Help: "Stream errors sent to clients, by condition.",
	}, []string{"condition"}))
	mHandling = metrics.Register(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "parley_stanza_handling_seconds",
		Help:    "Time from a stanza being read to the router finishing with it, by kind.",
		Buckets: []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 5e-3, 2.5e-2, 0.1, 1},
	}, []string{"kind"}))

	mInMessage  = mStanzas.WithLabelValues("in", "message")
	mInPresence = mStanzas.WithLabelValues("in", "presence")
	mInIQ       = mStanzas.WithLabelValues("in", "iq")
	mOutStanzas = mStanzas.WithLabelValues("out", "any")
	mHandleMsg  = mHandling.WithLabelValues("message")
	mHandlePres = mHandling.WithLabelValues("presence")
	mHandleIQ   = mHandling.WithLabelValues("iq")
)

var mParked = metrics.Register(prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "parley_c2s_parked_connections", Help: "Client connections waiting in the shared poller without a reading goroutine (c2s.park_after).",
}))

var (
	mSMSlow = metrics.Register(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_sm_slow_consumers_total", Help: "Stream-management sessions ended because the client acknowledged too little (sm.max_unacked).",
	}))
	mSMHibernated = metrics.Register(prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_sm_hibernated_sessions", Help: "Sessions waiting for a stream-management resumption (sm.resume_window).",
	}))
	mSMResumes = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_sm_resumes_total", Help: "Stream-management resumption attempts by result.",
	}, []string{"result"}))
)
