package c2s_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/sasl/scramtest"
	"github.com/parleyim/parley/internal/xmpptest"
)

// BenchmarkLogin compares the three ways to a bound session over STARTTLS
// (TLS 1.3) with a real socket: the classic path (SCRAM-SHA-256, stream
// restart, resource binding), SASL2 with Bind 2 (SCRAM-SHA-256, bound in
// the exchange), and a FAST token (HT-SHA-256-NONE with Bind 2: one
// message). Each op connects, logs in until the session is bound, and
// closes. Besides ns/op it reports the process CPU per login (client and
// server together: the client's SCRAM keys are cached, so neither side
// runs PBKDF2) and the round trips after TLS. The rtt=20ms runs go
// through a proxy that delays each direction by 10 ms, where round trips
// dominate.
func BenchmarkLogin(b *testing.B) {
	srv := xmpptest.Start(b)
	srv.AddUser(b, "alice@localhost", "pw")
	salted := map[string][]byte{}
	r, _ := srv.OpenTLS(b, "alice@localhost", 0)
	l := sasl2Login("SCRAM-SHA-256", "bench-device")
	l.RequestToken, l.Salted = sasl.HTSHA256None, salted
	token := r.SASL2(l).Token
	if token == "" {
		b.Fatal("no FAST token")
	}
	r.Conn.Close()
	var count int64 // FAST counts only grow, across every run of the benchmark

	for _, rtt := range []time.Duration{0, 20 * time.Millisecond} {
		addr := srv.Addr("c2s")
		if rtt > 0 {
			addr = xmpptest.DelayProxy(b, addr, rtt/2, rtt/2)
		}
		ways := []struct {
			name  string
			trips int
			login func(r *xmpptest.Raw, i int)
		}{
			{"classic", 4, func(r *xmpptest.Raw, _ int) { classicLogin(b, r, salted) }},
			{"sasl2+bind2", 2, func(r *xmpptest.Raw, _ int) {
				l := sasl2Login("SCRAM-SHA-256", "bench-device")
				l.Salted = salted
				mustLogin(b, r.SASL2(l))
			}},
			{"fast", 1, func(r *xmpptest.Raw, _ int) {
				count++
				l := xmpptest.SASL2Login{Mechanism: sasl.HTSHA256None, User: "alice", Token: token, Agent: "bench-device",
					Count: count, Bind: true, Tag: "test"}
				mustLogin(b, r.SASL2(l))
			}},
		}
		for _, w := range ways {
			b.Run(fmt.Sprintf("%s/rtt=%v", w.name, rtt), func(b *testing.B) {
				cpu0 := processCPU()
				b.ResetTimer()
				for i := range b.N {
					r, _ := srv.OpenTLSAt(b, addr, "alice@localhost", 0)
					w.login(r, i)
					r.Write("</stream:stream>")
					r.Conn.Close()
				}
				b.StopTimer()
				b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/login")
				b.ReportMetric(float64(w.trips), "round-trips-after-TLS")
			})
		}
	}
}

func mustLogin(b *testing.B, res xmpptest.SASL2Result) {
	if !res.Success || res.Bound == "" {
		b.Fatalf("login: %s", res.Raw)
	}
}

// classicLogin runs RFC 6120 SASL SCRAM-SHA-256, the stream restart and
// resource binding on r (after TLS).
func classicLogin(b *testing.B, r *xmpptest.Raw, salted map[string][]byte) {
	c := &scramtest.Client{Hash: "SHA-256", User: "alice", Password: "pw", Nonce: fmt.Sprint(time.Now().UnixNano()), Salted: salted}
	r.Write(auth("SCRAM-SHA-256", base64.StdEncoding.EncodeToString(c.First())))
	out := r.ReadUntil("</challenge>", wait)
	sf, err := base64.StdEncoding.DecodeString(out[strings.Index(out, ">")+1 : strings.Index(out, "</challenge>")])
	if err != nil {
		b.Fatal(err)
	}
	final, err := c.Final(sf)
	if err != nil {
		b.Fatal(err)
	}
	r.Write("<response xmlns='" + nsSASL + "'>" + base64.StdEncoding.EncodeToString(final) + "</response>")
	if out := r.ReadUntil("</success>", wait); !strings.Contains(out, "<success") {
		b.Fatalf("classic SCRAM: %s", out)
	}
	r.Open("localhost")
	r.Bind("classic")
}
