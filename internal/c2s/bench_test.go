package c2s

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/xmlstream"
)

// discardConn is a net.Conn that swallows writes and counts bytes.
type discardConn struct {
	net.Conn
	written atomic.Int64
}

func (c *discardConn) Write(b []byte) (int, error)      { c.written.Add(int64(len(b))); return len(b), nil }
func (c *discardConn) Close() error                     { return nil }
func (c *discardConn) SetWriteDeadline(time.Time) error { return nil }
func (c *discardConn) SetReadDeadline(time.Time) error  { return nil }

// repeater yields prefix once, then msg forever.
type repeater struct {
	prefix, msg []byte
	off         int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.prefix) > 0 {
			c := copy(p[n:], r.prefix)
			r.prefix = r.prefix[c:]
			n += c
			continue
		}
		c := copy(p[n:], r.msg[r.off:])
		r.off = (r.off + c) % len(r.msg)
		n += c
	}
	return n, nil
}

func boundSession(b testing.TB, srv *Server, full string) (*Session, *discardConn) {
	conn := &discardConn{}
	s, _ := newTCPSession(context.Background(), srv, conn, netip.IPv6Loopback(), false)
	s.full = jid.MustParse(full)
	s.user = s.full.Bare()
	s.fullStr = s.full.String()
	s.domain = s.full.Domain()
	s.state = stateBound
	s.available.Store(true)
	if old := srv.router.Bind(s); old != nil {
		b.Fatal("double bind")
	}
	return s, conn
}

// BenchmarkChatMessage measures the server's work for one chat message
// between two local sessions: parse from the socket bytes, stamp and check
// the sender, route, and serialise into the recipient's output queue (the
// write itself goes to a discarding connection).
func BenchmarkChatMessage(b *testing.B) { benchChat(b, false) }

// benchChat runs the chat benchmark, with stream management on both
// sessions when sm (BenchmarkChatMessageSM).
func benchChat(b *testing.B, sm bool) {
	cfg := config.Default()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := router.New(log, module.NewRegistry(), cfg.Domains)
	srv := &Server{cfg: cfg, router: r, log: log, domains: map[string]bool{"localhost": true}}
	alice, _ := boundSession(b, srv, "alice@localhost/phone")
	bob, bobConn := boundSession(b, srv, "bob@localhost/laptop")
	if sm {
		for _, s := range []*Session{alice, bob} {
			if !s.smEnable(true, 0, nil) {
				b.Fatal("enable failed")
			}
		}
	}
	msg := []byte(`<message to='bob@localhost/laptop' type='chat' id='a1b2c3d4'><body>Hello Bob, how are you today?</body></message>`)
	dec := xmlstream.NewDecoder(&repeater{prefix: []byte(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`), msg: msg}, xmlstream.Limits{})
	if _, err := dec.ReadHeader(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		el, err := dec.Next()
		if err != nil {
			b.Fatal(err)
		}
		if err := alice.handleStanza(ctx, el); err != nil {
			b.Fatal(err)
		}
		if sm && i%32 == 31 {
			ackAll(b, bob)
		}
	}
	b.StopTimer()
	deadline := time.Now().Add(5 * time.Second)
	for bobConn.written.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if bobConn.written.Load() == 0 {
		b.Fatal("nothing delivered to bob")
	}
	if sm && alice.sm.inH.Load() != uint32(b.N) {
		b.Fatalf("alice's h = %d after %d stanzas", alice.sm.inH.Load(), b.N)
	}
}
