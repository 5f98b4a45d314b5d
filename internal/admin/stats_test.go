package admin

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestSamplerRing: the ring keeps the last hour (oldest first once it
// wraps) and computes messages per second from the counter's growth.
func TestSamplerRing(t *testing.T) {
	var total uint64
	at := time.Unix(1_000_000, 0)
	s := newSampler(15*time.Minute, func(context.Context) Stats { // 4 slots
		return Stats{At: at, MessagesTotal: total, Sessions: int(total)}
	})
	for i := range 6 {
		total = uint64(i * 900) // 900 messages per 15 minutes: 1/s
		s.sample(at)
		at = at.Add(15 * time.Minute)
	}
	pts := s.points()
	if len(pts) != 4 {
		t.Fatalf("%d points, want 4", len(pts))
	}
	for i, p := range pts {
		if want := (i + 2) * 900; p.sessions != want {
			t.Errorf("point %d has %d, want %d (oldest first)", i, p.sessions, want)
		}
		if p.mps != 1 {
			t.Errorf("point %d: %v msg/s, want 1", i, p.mps)
		}
	}
	if svg := string(chart(pts)); !strings.Contains(svg, "<polyline") || !strings.Contains(svg, "max 4500 sessions") {
		t.Errorf("chart: %s", svg)
	}
	if svg := string(chart(nil)); !strings.Contains(svg, "Collecting samples") {
		t.Errorf("empty chart: %s", svg)
	}
}
