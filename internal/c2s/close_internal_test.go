package c2s

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
)

var loopback = netip.IPv6Loopback()

// records keeps the log records a test's server writes.
type records struct {
	mu  sync.Mutex
	got []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// streamErrorsLogged returns the attributes of each "stream error sent"
// record.
func (r *records) streamErrorsLogged() []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, rec := range r.got {
		if rec.Message != "stream error sent" {
			continue
		}
		attrs := map[string]string{}
		rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		out = append(out, attrs)
	}
	return out
}

// TestStreamErrorLoggedAndCountedOnce: a stream error we send is logged
// exactly once, with the peer, the stream id and the condition, and
// counted once under its condition, even when more close requests follow.
func TestStreamErrorLoggedAndCountedOnce(t *testing.T) {
	cfg := config.Default()
	cfg.C2S.ParkAfter = 0
	rec := &records{}
	log := slog.New(rec)
	srv := &Server{cfg: cfg, router: router.New(log, module.NewRegistry(), cfg.Domains), log: log,
		domains: map[string]bool{"localhost": true}, conns: map[*Session]struct{}{}}
	client, server := net.Pipe()
	defer client.Close()
	s, tr := newTCPSession(context.Background(), srv, server, loopback, false)
	srv.conns[s] = struct{}{} // as accept does
	srv.wg.Add(1)
	mConnections.Inc()
	before := StreamErrorCount(t, "invalid-namespace")
	tr.start()

	client.SetDeadline(time.Now().Add(10 * time.Second))
	go io.WriteString(client, "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
	var out strings.Builder
	buf := make([]byte, 512)
	for !strings.Contains(out.String(), "</stream:stream>") {
		n, err := client.Read(buf)
		if err != nil {
			t.Fatalf("reading the answer: %v; got %q", err, out.String())
		}
		out.Write(buf[:n])
	}
	s.Close("conflict", "a later request") // too late: the first reason won
	client.Close()
	srv.wg.Wait()

	if !strings.Contains(out.String(), "<invalid-namespace") {
		t.Fatalf("answer: %q", out.String())
	}
	logged := rec.streamErrorsLogged()
	if len(logged) != 1 {
		t.Fatalf("stream errors logged %d times, want once: %v", len(logged), logged)
	}
	l := logged[0]
	if l["condition"] != "invalid-namespace" || l["stream_id"] != s.id || l["stream_id"] == "" || l["peer"] != loopback.String() {
		t.Fatalf("logged %v, want condition invalid-namespace, stream_id %q, peer %s", l, s.id, loopback)
	}
	if got := StreamErrorCount(t, "invalid-namespace"); got != before+1 {
		t.Fatalf("parley_stream_errors_total{condition=invalid-namespace} went from %v to %v", before, got)
	}
}
