package loadtest_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/tools/loadtest"
	"github.com/parleyim/parley/internal/xmpptest"
)

func wsTarget(t *testing.T, srv *xmpptest.Server, mech string) *loadtest.Target {
	tg := target(t, srv, mech, false)
	_, port, _ := net.SplitHostPort(srv.Addr("http-tls"))
	tg.WebSocket = "wss://localhost:" + port + "/xmpp-websocket"
	return tg
}

// TestChatWebSocket: chat over XMPP over WebSocket (wss), every message
// counted by the server and delivered.
func TestChatWebSocket(t *testing.T) {
	srv := start(t)
	createUsers(t, srv, "wschat", 4)
	o := options(wsTarget(t, srv, loadtest.MechSCRAMSHA256), "wschat")
	o.Pairs, o.Rate, o.Duration, o.Window = 2, 0, 500*time.Millisecond, 16
	in := `parley_stanzas_total{direction="in",kind="message"}`
	before := metric(t, srv, in)
	r, err := loadtest.Chat(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	sent, delivered := get(t, r, "sent"), get(t, r, "delivered")
	if sent < 4 || delivered != sent || get(t, r, "lost") != 0 {
		t.Fatalf("sent %v delivered %v", sent, delivered)
	}
	if got := metric(t, srv, in) - before; got != sent {
		t.Fatalf("the server received %v messages, the tool says it sent %v", got, sent)
	}
}

// TestIdleWebSocket: idle WebSocket sessions are held and answer pings.
func TestIdleWebSocket(t *testing.T) {
	srv := start(t)
	createUsers(t, srv, "wsidle", 6)
	o := options(wsTarget(t, srv, loadtest.MechPLAIN), "wsidle")
	o.N, o.Duration = 6, 200*time.Millisecond
	r, err := loadtest.Idle(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if get(t, r, "sessions") != 6 || get(t, r, "up_after_hold") != 6 {
		t.Fatalf("sessions: %+v", r.Metrics)
	}
}
