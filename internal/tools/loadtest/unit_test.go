package loadtest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/xmlstream"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	cases := []struct {
		name string
		q    float64
		want time.Duration
	}{
		{"p50", 0.5, 500 * time.Microsecond},
		{"p90", 0.9, 900 * time.Microsecond},
		{"p99", 0.99, 990 * time.Microsecond},
		{"max", 1, 1000 * time.Microsecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := h.Quantile(tc.q)
			if diff := float64(got-tc.want) / float64(tc.want); diff < -0.02 || diff > 0.02 {
				t.Fatalf("q%v = %v, want %v ±2%%", tc.q, got, tc.want)
			}
		})
	}
	if h.Count() != 1000 || h.Max() != time.Millisecond {
		t.Fatalf("count %d max %v", h.Count(), h.Max())
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 {
		t.Fatal("empty histogram has a quantile")
	}
}

func TestBucketsAreMonotonic(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<20; v += 7 {
		b := bucketOf(v)
		if b < prev || lowerBound(b) > v || lowerBound(b+1) <= v {
			t.Fatalf("value %d: bucket %d [%d,%d)", v, b, lowerBound(b), lowerBound(b+1))
		}
		prev = b
	}
}

func TestStampRoundTrip(t *testing.T) {
	b := appendMessage(nil, "bob@example/x", "chat", 42, 100)
	el, err := decodeOne(b)
	if err != nil {
		t.Fatal(err)
	}
	ns, sq, ok := parseStamp(el.ChildText(stanza.NSClient, "body"))
	if !ok || sq != 42 || ns <= 0 || ns > stamp() {
		t.Fatalf("stamp %d seq %d ok %v", ns, sq, ok)
	}
	if len(el.ChildText(stanza.NSClient, "body")) < 100 {
		t.Fatal("body not padded")
	}
	for _, bad := range []string{"", "hello", "b x 1", "b 1", "b -5 1"} {
		if _, _, ok := parseStamp(bad); ok {
			t.Fatalf("parsed %q", bad)
		}
	}
}

func decodeOne(b []byte) (*stanza.Element, error) {
	in := streamHeader("example") + string(b)
	d := xmlstream.NewDecoder(strings.NewReader(in), xmlstream.Limits{})
	if _, err := d.ReadHeader(); err != nil {
		return nil, err
	}
	return d.Next()
}

func TestSCRAMClientRFC7677Vector(t *testing.T) {
	// RFC 7677 §3: user "user", password "pencil".
	c, err := newSCRAMClient(MechSCRAMSHA256, "user", "pencil", NewKeyCache())
	if err != nil {
		t.Fatal(err)
	}
	c.nonce = "rOprNGfwEbeRWgbNEkqO"
	if got := string(c.first()); got != "n,,n=user,r=rOprNGfwEbeRWgbNEkqO" {
		t.Fatalf("client-first %q", got)
	}
	final, err := c.final([]byte("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
	if err != nil {
		t.Fatal(err)
	}
	want := "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	if string(final) != want {
		t.Fatalf("client-final\n got %s\nwant %s", final, want)
	}
	if err := c.verify([]byte("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")); err != nil {
		t.Fatal(err)
	}
	if err := c.verify([]byte("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")); err == nil {
		t.Fatal("a wrong server signature was accepted")
	}
	if c.keys.Len() != 1 {
		t.Fatalf("salted password not cached (%d keys)", c.keys.Len())
	}
}

func TestKeyCacheSaveLoad(t *testing.T) {
	k := NewKeyCache()
	if _, err := k.salted(MechSCRAMSHA1, "pw", []byte("salt"), 4096); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/keys"
	if err := k.Save(path); err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKeyCache(path)
	if err != nil || k2.Len() != 1 {
		t.Fatalf("load: %v, %d keys", err, k2.Len())
	}
	a, _ := k.salted(MechSCRAMSHA1, "pw", []byte("salt"), 4096)
	b := k2.m[keyOf(MechSCRAMSHA1, "pw", []byte("salt"), 4096)]
	if !bytes.Equal(a, b) {
		t.Fatal("loaded key differs")
	}
}

// fakeRegistrar is a scripted XEP-0077 server: it checks the registration
// request and answers with result, or conflict for the user "taken".
func fakeRegistrar(t *testing.T) (addr string, got chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan string, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRegistration(c, got)
		}
	}()
	return ln.Addr().String(), got
}

func serveRegistration(c net.Conn, got chan<- string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	d := xmlstream.NewDecoder(c, xmlstream.Limits{})
	if _, err := d.ReadHeader(); err != nil {
		return
	}
	c.Write([]byte("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" + nsStream +
		"' from='example' id='x' version='1.0'><stream:features><register xmlns='http://jabber.org/features/iq-register'/></stream:features>"))
	el, err := d.Next()
	if err != nil {
		return
	}
	q := el.Child(nsRegister, "query")
	if el.Local != "iq" || el.Attr("type") != "set" || q == nil {
		got <- "bad request: " + el.String()
		return
	}
	user, pass := q.ChildText(nsRegister, "username"), q.ChildText(nsRegister, "password")
	got <- user + ":" + pass
	if user == "taken" {
		c.Write([]byte("<iq type='error' id='" + el.Attr("id") + "'><error type='cancel'><conflict xmlns='" + nsStanzas + "'/></error></iq>"))
	} else {
		c.Write([]byte("<iq type='result' id='" + el.Attr("id") + "'/>"))
	}
	d.Next() // the tool closes its stream
}

func TestIBR(t *testing.T) {
	addr, got := fakeRegistrar(t)
	reg := IBR{Target: &Target{Addr: addr, Domain: "example"}}
	ctx := context.Background()
	if err := reg.Register(ctx, "alice", "p<w&"); err != nil {
		t.Fatal(err)
	}
	if g := <-got; g != "alice:p<w&" {
		t.Fatalf("server got %q", g)
	}
	err := reg.Register(ctx, "taken", "pw")
	<-got
	if !errors.Is(err, ErrExists) {
		t.Fatalf("conflict gave %v, want ErrExists", err)
	}
}

// TestChatReceiveChecksAddress: a delivered message counts only when it
// is addressed the way the run sends (bare or full JID); anything else is
// foreign, so a server that rewrote the address cannot pass unnoticed.
func TestChatReceiveChecksAddress(t *testing.T) {
	peers := []*chatPeer{
		{jid: "a@localhost/r", peer: 1, tokens: make(chan struct{}, 1)},
		{jid: "b@localhost/r", peer: 0, tokens: make(chan struct{}, 1)},
	}
	deliver := func(mode, to string) *msgStats {
		o := &Options{To: mode}
		var st msgStats
		buf := appendMessage(nil, to, "chat", 1, 64)
		el, err := decodeOne(buf)
		if err != nil {
			t.Fatal(err)
		}
		el.SetAttr("from", "a@localhost/r")
		chatReceive(o, peers, 1, el, &st)
		return &st
	}
	for _, tc := range []struct {
		mode, to  string
		delivered bool
	}{
		{"", "b@localhost", true},
		{ToBare, "b@localhost", true},
		{ToBare, "b@localhost/r", false},
		{ToFull, "b@localhost/r", true},
		{ToFull, "b@localhost", false},
	} {
		st := deliver(tc.mode, tc.to)
		if got := st.delivered.Load() == 1; got != tc.delivered || (st.foreign.Load() == 1) == tc.delivered {
			t.Errorf("mode %q, to %q: delivered %d foreign %d", tc.mode, tc.to, st.delivered.Load(), st.foreign.Load())
		}
	}
	if _, err := (&Options{To: "resource"}).toMode(); err == nil {
		t.Error("an unknown --to was accepted")
	}
}
