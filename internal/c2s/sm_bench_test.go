package c2s

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/xmlstream"
)

// BenchmarkChatMessageSM is BenchmarkChatMessage with stream management
// enabled on both sessions: the sender's stanza is counted after routing
// and the recipient keeps a copy of it until acknowledged (an ack every 32
// messages, as a client answering <r/> would).
func BenchmarkChatMessageSM(b *testing.B) {
	cfg := config.Default()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := router.New(log, module.NewRegistry(), cfg.Domains)
	srv := &Server{cfg: cfg, router: r, log: log, domains: map[string]bool{"localhost": true}}
	alice, _ := boundSession(b, srv, "alice@localhost/phone")
	bob, bobConn := boundSession(b, srv, "bob@localhost/laptop")
	for _, s := range []*Session{alice, bob} {
		if !s.smEnable(true, 0, nil) {
			b.Fatal("enable failed")
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
		if i%32 == 31 {
			bob.out.mu.Lock()
			h := bob.sm.sent()
			bob.out.mu.Unlock()
			if _, ok := bob.out.smAck(h); !ok {
				b.Fatal("ack refused")
			}
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
	if alice.sm.inH != uint32(b.N) {
		b.Fatalf("alice's h = %d after %d stanzas", alice.sm.inH, b.N)
	}
}
