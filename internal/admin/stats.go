package admin

import (
	"context"
	"fmt"
	"html/template"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/metrics"
)

// Stats are the dashboard's live figures (GET /api/v1/stats).
type Stats struct {
	At          time.Time      `json:"at"`
	Sessions    int            `json:"sessions"`
	ByTransport map[string]int `json:"sessions_by_transport"`
	// MessagesPerSecond is the rate of messages received from clients
	// over the last sampling interval.
	MessagesPerSecond float64 `json:"messages_per_second"`
	MessagesTotal     uint64  `json:"messages_total"`
	HeapBytes         uint64  `json:"heap_bytes"`
	SysBytes          uint64  `json:"sys_bytes"`
	Goroutines        int     `json:"goroutines"`
	UptimeSeconds     int64   `json:"uptime_seconds"`
	Database          string  `json:"database"` // "ok" or the error
}

// sample is one point of the chart.
type sample struct {
	at       time.Time
	sessions int
	mps      float64
	heapMB   float64
}

// sampler keeps the last hour of samples in a ring buffer.
type sampler struct {
	every time.Duration
	snap  func(context.Context) Stats
	mu    sync.Mutex
	ring  []sample
	next  int
	full  bool
	last  Stats
}

func newSampler(every time.Duration, snap func(context.Context) Stats) *sampler {
	n := max(int(time.Hour/every), 2)
	return &sampler{every: every, snap: snap, ring: make([]sample, n)}
}

func (s *sampler) sample(now time.Time) {
	st := s.snap(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.At.IsZero() && st.MessagesTotal >= s.last.MessagesTotal {
		if secs := st.At.Sub(s.last.At).Seconds(); secs > 0 {
			st.MessagesPerSecond = float64(st.MessagesTotal-s.last.MessagesTotal) / secs
		}
	}
	s.last = st
	s.ring[s.next] = sample{at: now, sessions: st.Sessions, mps: st.MessagesPerSecond, heapMB: float64(st.HeapBytes) / (1 << 20)}
	s.next = (s.next + 1) % len(s.ring)
	if s.next == 0 {
		s.full = true
	}
}

// points returns the samples, oldest first.
func (s *sampler) points() []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full {
		return slices.Clone(s.ring[:s.next])
	}
	return slices.Concat(s.ring[s.next:], s.ring[:s.next])
}

// rate returns the latest messages-per-second figure.
func (s *sampler) rate() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.MessagesPerSecond
}

// snapshot reads the current figures.
func (c *Console) snapshot(ctx context.Context) Stats {
	now := c.now()
	st := Stats{At: now, ByTransport: map[string]int{}, Database: "ok"}
	for _, s := range c.Sessions.All() {
		st.Sessions++
		st.ByTransport[transportOf(s)]++
	}
	st.MessagesTotal = messagesIn()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st.HeapBytes, st.SysBytes, st.Goroutines = ms.HeapAlloc, ms.Sys, runtime.NumGoroutine()
	st.UptimeSeconds = int64(now.Sub(c.Started).Seconds())
	if c.Health != nil {
		if err := c.Health(ctx); err != nil {
			st.Database = err.Error()
		}
	}
	return st
}

// liveStats is snapshot with the sampler's latest rate.
func (c *Console) liveStats(ctx context.Context) Stats {
	st := c.snapshot(ctx)
	st.MessagesPerSecond = c.stats.rate()
	return st
}

func transportOf(s any) string {
	if i, ok := s.(interface{ Info() c2s.Info }); ok {
		if t := i.Info().Transport; t != "" {
			return t
		}
	}
	return "other"
}

// messagesIn reads parley_stanzas_total{direction="in",kind="message"}.
func messagesIn() uint64 {
	mfs, err := metrics.Gatherer().Gather()
	if err != nil {
		return 0
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "parley_stanzas_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["direction"] == "in" && labels["kind"] == "message" {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return uint64(n)
}

// chart draws the last hour as an inline SVG: sessions and messages per
// second, each scaled to its own maximum.
func chart(pts []sample) template.HTML {
	const w, h, pad = 600.0, 160.0, 6.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %g %g" role="img" aria-labelledby="chart-title" class="chart" preserveAspectRatio="none">`, w, h+20)
	b.WriteString(`<title id="chart-title">Sessions (blue) and messages per second (orange) over the last hour</title>`)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%g" height="%g" fill="none" stroke="#999" stroke-width="1"/>`, w, h)
	if len(pts) > 1 {
		var maxS, maxM float64 = 1, 1
		for _, p := range pts {
			maxS, maxM = max(maxS, float64(p.sessions)), max(maxM, p.mps)
		}
		line := func(val func(sample) float64, top float64, color string) {
			b.WriteString(`<polyline fill="none" stroke-width="2" stroke="` + color + `" points="`)
			for i, p := range pts {
				x := w * float64(i) / float64(len(pts)-1)
				y := h - pad - (h-2*pad)*val(p)/top // inside the frame
				fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
			}
			b.WriteString(`"/>`)
		}
		line(func(p sample) float64 { return float64(p.sessions) }, maxS, "#1f5fbf")
		line(func(p sample) float64 { return p.mps }, maxM, "#c25400")
		fmt.Fprintf(&b, `<text x="4" y="%g" font-size="12" fill="#1f5fbf">max %d sessions</text>`, h+16, int(maxS))
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="12" fill="#c25400" text-anchor="end">max %.1f msg/s</text>`, w-4, h+16, maxM)
	} else {
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="14" text-anchor="middle" fill="#555">Collecting samples…</text>`, w/2, h/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from numbers only
}

// sortedTransports lists a Stats' transports in name order.
func sortedTransports(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
