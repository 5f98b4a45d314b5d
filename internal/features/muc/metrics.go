package muc

import (
	"github.com/parleyim/parley/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	mRooms = metrics.Register(prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_muc_rooms", Help: "Group chat rooms in memory (persistent rooms count once loaded).",
	}))
	mOccupants = metrics.Register(prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_muc_occupants", Help: "Occupants of all group chat rooms.",
	}))
	mGroupchat = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_muc_groupchat_total",
		Help: "Groupchat messages received by rooms (in) and delivered to occupants (out).",
	}, []string{"direction"}))

	mGroupchatIn = mGroupchat.WithLabelValues("in")
	mDeliveries  = mGroupchat.WithLabelValues("out")
)

var (
	mRateLimited = metrics.Register(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_muc_rate_limited_total", Help: "Groupchat messages refused because the occupant sent too fast.",
	}))
	mHistoryBytes = metrics.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_muc_history_bytes", Help: "Bytes held by the rooms' in-memory history caches (serialised size).",
	}, func() float64 { return float64(historyBytes.Load()) }))
)

var mArchiveFailed = metrics.Register(prometheus.NewCounter(prometheus.CounterOpts{
	Name: "parley_muc_archive_failed_total", Help: "Groupchat messages broadcast without being archived because the archive refused them.",
}))
