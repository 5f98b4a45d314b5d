package s2s_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/metrics"
	"github.com/parleyim/parley/internal/s2s"
	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 10 * time.Second

// freeAddr returns a loopback address nobody listens on (xmpptest.FreeAddr).
func freeAddr(t testing.TB) string { return xmpptest.FreeAddr(t) }

// fedOpts configures a federating test server for domain, listening on
// addr, with static routes (domain → addr) to its peers. Certificates are
// self-signed, so peers authenticate by dialback.
func fedOpts(domain, addr string, routes map[string]string, more ...xmpptest.Option) xmpptest.Option {
	return func(c *config.Config) {
		c.Domains = []string{domain}
		c.S2S.Enabled = true
		c.S2S.Addr = addr
		c.S2S.Routes = routes
		c.S2S.RequireValidCertificates = false
		c.S2S.ConnectTimeout = config.Duration(5 * time.Second)
		for _, o := range more {
			o(c)
		}
	}
}

// pair is two federating servers, a.test and b.test, with alice on one
// and bob on the other.
type fedPair struct {
	a, b         *xmpptest.Server
	addrA, addrB string
}

func startPair(t testing.TB, more ...xmpptest.Option) *fedPair {
	t.Helper()
	return startPairVia(t, nil, more...)
}

// startPairVia is startPair where a.test reaches b.test at via(b's
// address) (a proxy) when via is not nil.
func startPairVia(t testing.TB, via func(addrB string) string, more ...xmpptest.Option) *fedPair {
	t.Helper()
	p := &fedPair{addrA: freeAddr(t), addrB: freeAddr(t)}
	routes := func() map[string]string {
		return map[string]string{"a.test": p.addrA, "b.test": p.addrB, "conference.a.test": p.addrA, "conference.b.test": p.addrB}
	}
	routesA := routes()
	if via != nil {
		routesA["b.test"] = via(p.addrB)
	}
	p.a = xmpptest.Start(t, fedOpts("a.test", p.addrA, routesA, more...))
	p.b = xmpptest.Start(t, fedOpts("b.test", p.addrB, routes(), more...))
	p.a.AddUser(t, "alice@a.test", "pw")
	p.b.AddUser(t, "bob@b.test", "pw")
	return p
}

func online(t *testing.T, s *xmpptest.Server, user string) *xmpptest.Client {
	t.Helper()
	c := s.Dial(t, user, "pw", xmpptest.DialOptions{})
	c.Send(t, `<presence/>`)
	return c
}

func isMessage(from, body string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && strings.HasPrefix(s.Attr("from"), from) && strings.Contains(s.Inner, body)
	}
}

func isErrorFrom(from, cond string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.Attr("type") == "error" && strings.HasPrefix(s.Attr("from"), from) && strings.Contains(s.Inner, cond)
	}
}

func isPresence(from, typ string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "presence" && strings.HasPrefix(s.Attr("from"), from) && s.Attr("type") == typ
	}
}

// streamsOf returns the server's s2s streams in one direction.
func streamsOf(s *xmpptest.Server, dir string) []s2s.StreamInfo {
	var out []s2s.StreamInfo
	for _, i := range s.S2S().Streams() {
		if i.Direction == dir {
			out = append(out, i)
		}
	}
	return out
}

// metric returns the value of a series of the process's registry (0 when
// absent).
func metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := metrics.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue series
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
