package loadtest_test

import (
	"context"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/tools/loadtest"
	"github.com/parleyim/parley/internal/xmlstream"
)

// fakeMUC is the smallest XMPP server the muc scenario can run against:
// SASL PLAIN (any password), bind, room joins answered with the
// occupant's own presence, and groupchat messages reflected to every
// occupant of the room (XEP-0045 §7.4). It counts what it received and
// delivered, so the tests can hold the tool's figures against it; with
// dropEvery k it silently drops every k-th delivery.
type fakeMUC struct {
	ln        net.Listener
	dropEvery int64

	mu    sync.Mutex
	rooms map[string]map[string]*fakeConn // room bare JID → nick → occupant

	received, delivered, dropped, n atomic.Int64
}

type fakeConn struct {
	nc  net.Conn
	jid string
	wmu sync.Mutex
}

func (c *fakeConn) write(s string) {
	c.wmu.Lock()
	c.nc.Write([]byte(s))
	c.wmu.Unlock()
}

func startFakeMUC(t *testing.T, dropEvery int64) *fakeMUC {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeMUC{ln: ln, dropEvery: dropEvery, rooms: map[string]map[string]*fakeConn{}}
	var wg sync.WaitGroup
	var cmu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			cmu.Lock()
			conns = append(conns, nc)
			cmu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				f.serve(nc)
			}()
		}
	}()
	return f
}

const fakeHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s' version='1.0'>"

func attr(v string) string { return string(stanza.AppendEscapedAttr(nil, v)) }

func (f *fakeMUC) serve(nc net.Conn) {
	c := &fakeConn{nc: nc}
	dec := xmlstream.NewDecoder(nc, xmlstream.Limits{MaxElementBytes: 1 << 20})
	if _, err := dec.ReadHeader(); err != nil {
		return
	}
	c.write(fakeHeader + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>")
	auth, err := dec.Next()
	if err != nil || auth.Local != "auth" {
		return
	}
	creds, _ := base64.StdEncoding.DecodeString(auth.Text())
	user := strings.Split(string(creds), "\x00")[1]
	c.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
	dec.Restart()
	if _, err := dec.ReadHeader(); err != nil {
		return
	}
	c.write(fakeHeader + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>")
	c.jid = user + "@localhost/bench"
	for {
		el, err := dec.Next()
		if err != nil {
			return
		}
		switch el.Local {
		case "iq":
			if el.Attr("id") == "bind" {
				c.write("<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" + c.jid + "</jid></bind></iq>")
			} else if t := el.Attr("type"); t == "get" || t == "set" {
				c.write("<iq type='result' id='" + attr(el.Attr("id")) + "'/>")
			}
		case "presence":
			if room, nick, ok := strings.Cut(el.Attr("to"), "/"); ok {
				f.join(c, room, nick)
			}
		case "message":
			if el.Attr("type") == "groupchat" {
				f.reflect(c, el)
			}
		}
	}
}

func (f *fakeMUC) join(c *fakeConn, room, nick string) {
	f.mu.Lock()
	if f.rooms[room] == nil {
		f.rooms[room] = map[string]*fakeConn{}
	}
	f.rooms[room][nick] = c
	f.mu.Unlock()
	c.write("<presence from='" + attr(room+"/"+nick) + "' to='" + attr(c.jid) + "'><x xmlns='http://jabber.org/protocol/muc#user'>" +
		"<item affiliation='none' role='participant'/><status code='110'/></x></presence>")
}

// reflect sends a groupchat message to every occupant of its room, the
// sender included, from the sender's occupant JID.
func (f *fakeMUC) reflect(from *fakeConn, el *stanza.Element) {
	f.received.Add(1)
	room := el.Attr("to")
	f.mu.Lock()
	occupants := f.rooms[room]
	nick := ""
	var to []*fakeConn
	for n, c := range occupants {
		to = append(to, c)
		if c == from {
			nick = n
		}
	}
	f.mu.Unlock()
	body := string(stanza.AppendEscapedText(nil, el.ChildText(stanza.NSClient, "body")))
	for _, c := range to {
		if f.dropEvery > 0 && f.n.Add(1)%f.dropEvery == 0 {
			f.dropped.Add(1)
			continue
		}
		c.write("<message type='groupchat' from='" + attr(room+"/"+nick) + "' to='" + attr(c.jid) + "'><body>" + body + "</body></message>")
		f.delivered.Add(1)
	}
}

func fakeOptions(t *testing.T, f *fakeMUC) loadtest.Options {
	tg := &loadtest.Target{Addr: f.ln.Addr().String(), Domain: "localhost", Mechanism: loadtest.MechPLAIN,
		StepTimeout: 5 * time.Second}
	o := options(tg, "occ")
	o.Rooms, o.RoomSize, o.Duration, o.Window = 2, 3, 500*time.Millisecond, 8
	o.MUCService = "conference.localhost"
	o.Drain = 3 * time.Second
	return o
}

// TestMUCModes runs the muc scenario at a fixed rate and flat out against
// the fake service: the tool's sent and delivered counts must be the
// server's, every message reaches every occupant, and flat out sends more
// than the fixed rate does.
func TestMUCModes(t *testing.T) {
	const fixedRate = 60
	var fixedSent float64
	for _, tc := range []struct {
		name string
		rate float64
		mode string
	}{
		{"fixed rate", fixedRate, "60/s"},
		{"flat out", 0, "flat out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFakeMUC(t, 0)
			o := fakeOptions(t, f)
			o.Rate = tc.rate
			r, err := loadtest.MUC(context.Background(), o)
			if err != nil {
				t.Fatalf("%v: %+v", err, r.Metrics)
			}
			if r.Params["rate"] != tc.mode {
				t.Fatalf("rate parameter %q, want %q", r.Params["rate"], tc.mode)
			}
			sent, deliveries := get(t, r, "sent"), get(t, r, "deliveries")
			if sent != float64(f.received.Load()) || deliveries != float64(f.delivered.Load()) {
				t.Fatalf("tool: sent %v, %v deliveries; server: received %v, delivered %v",
					sent, deliveries, f.received.Load(), f.delivered.Load())
			}
			if deliveries != 3*sent || get(t, r, "lost") != 0 || sent == 0 {
				t.Fatalf("sent %v, %v deliveries in rooms of 3", sent, deliveries)
			}
			if get(t, r, "delivery_rate") <= 0 || get(t, r, "server_cpu_per_delivery") < 0 {
				t.Fatalf("no rate or CPU: %+v", r.Metrics)
			}
			if tc.rate > 0 {
				fixedSent = sent
				if sent > fixedRate {
					t.Fatalf("sent %v messages in 0.5 s at %v/s", sent, fixedRate)
				}
			} else if sent <= fixedSent {
				t.Fatalf("flat out sent %v messages, no more than %v at %v/s", sent, fixedSent, fixedRate)
			}
		})
	}
}

// TestMUCCountsLosses: a service that drops deliveries must make the
// scenario report them and fail, at a fixed rate and flat out (where a
// lost reflection also stalls its sender's window).
func TestMUCCountsLosses(t *testing.T) {
	for _, rate := range []float64{60, 0} {
		t.Run(map[bool]string{true: "fixed rate", false: "flat out"}[rate > 0], func(t *testing.T) {
			f := startFakeMUC(t, 7)
			o := fakeOptions(t, f)
			// The drain is long enough that no delivery still in flight on a
			// loaded machine is counted as lost (the count must equal the drops).
			o.Rate, o.Drain = rate, 2*time.Second
			r, err := loadtest.MUC(context.Background(), o)
			if err == nil {
				t.Fatalf("deliveries dropped but the run succeeded: %+v", r.Metrics)
			}
			if lost := get(t, r, "lost"); lost != float64(f.dropped.Load()) || lost == 0 {
				t.Fatalf("tool reports %v lost, the server dropped %v", lost, f.dropped.Load())
			}
		})
	}
}
