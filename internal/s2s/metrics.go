package s2s

import (
	"github.com/parleyim/parley/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	streams = metrics.Register(prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "parley_s2s_streams", Help: "Authenticated server-to-server streams, by remote domain and direction (in, out).",
	}, []string{"remote_domain", "direction"}))
	bounces = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_s2s_bounces_total", Help: "Stanzas to other servers bounced to their sender, by reason (the stanza error condition).",
	}, []string{"reason"}))
	stanzasIO = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_s2s_stanzas_total", Help: "Stanzas written to and read from other servers, by direction.",
	}, []string{"direction"}))
	streamErrors = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_s2s_stream_errors_total", Help: "Stream errors sent to other servers and components, by condition.",
	}, []string{"condition"}))

	sent     = stanzasIO.WithLabelValues("out")
	received = stanzasIO.WithLabelValues("in")
)
