package config

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// S2S configures federation with other XMPP servers (RFC 6120 server-to-
// server streams, XEP-0220 dialback, XEP-0368 direct TLS).
type S2S struct {
	// Enabled lets stanzas to other domains leave the server and accepts
	// streams from other servers on Addr; when false, such stanzas are
	// bounced with remote-server-not-found.
	Enabled bool `toml:"enabled"`
	// Addr is the inbound listener, e.g. ":5269"; "" accepts no inbound
	// streams (outbound federation still works, but peers using dialback
	// cannot verify us).
	Addr string `toml:"addr"`
	// TLSAddr is an inbound direct-TLS listener (XEP-0368,
	// _xmpps-server._tcp); "" (the default) disables it.
	TLSAddr string `toml:"tls_addr"`
	// Routes maps a remote domain to "host:port", bypassing DNS (tests,
	// private networks).
	Routes map[string]string `toml:"routes"`
	// RequireValidCertificates refuses peers whose certificate does not
	// verify for their domain. When false, such peers may still
	// authenticate by dialback (if enabled).
	RequireValidCertificates bool `toml:"require_valid_certificates"`
	// RequireTLS refuses streams that do not use TLS, in both directions.
	RequireTLS bool `toml:"require_tls"`
	// Dialback enables Server Dialback (XEP-0220) in both directions.
	Dialback bool `toml:"dialback"`
	// DialbackSecret is the secret dialback keys are derived from
	// (XEP-0185). "" generates a random one at start (keys issued before a
	// restart then fail to verify; the peer reconnects). Servers of a
	// cluster must share it.
	DialbackSecret string `toml:"dialback_secret"`
	// CAFile is a PEM bundle of certificate authorities trusted for peer
	// certificates, in addition to the system's ("" uses only the system's).
	CAFile string `toml:"ca_file"`
	// ConnectTimeout bounds connecting and authenticating an outbound
	// stream; stanzas queued meanwhile are bounced with
	// remote-server-timeout after it.
	ConnectTimeout Duration `toml:"connect_timeout"`
	// IdleTimeout closes a stream that carried no stanza for this long.
	IdleTimeout Duration `toml:"idle_timeout"`
	// KeepAlive is how often an idle outbound stream sends white space
	// (XEP-0199 §4) so that NATs and the peer keep it open.
	KeepAlive Duration `toml:"keepalive"`
	// QueueSize bounds the stanzas waiting for one outbound stream (while
	// it connects or while the peer reads slowly); past it stanzas are
	// bounced with resource-constraint.
	QueueSize int `toml:"queue_size"`
	// StreamsPerIP bounds the inbound streams one remote address may hold.
	StreamsPerIP int `toml:"streams_per_ip"`
	// StanzasPerSecond and StanzaBurst bound the stanzas one inbound stream
	// may send (a token bucket); a peer beyond them gets the
	// policy-violation stream error.
	StanzasPerSecond int `toml:"stanzas_per_second"`
	StanzaBurst      int `toml:"stanza_burst"`
}

// Components configures external components (XEP-0114): processes that
// connect with a shared secret and serve a domain of their own.
type Components struct {
	// Addr is the component listener, e.g. "127.0.0.1:5347"; "" (the
	// default) disables it.
	Addr string `toml:"addr"`
	// Secrets maps each component domain to its shared secret.
	Secrets map[string]string `toml:"secrets"`
}

// defaultS2S returns the defaults of [s2s].
func defaultS2S() S2S {
	return S2S{
		Enabled: true, Addr: ":5269", Routes: map[string]string{},
		RequireValidCertificates: true, RequireTLS: true, Dialback: true,
		ConnectTimeout: Duration(30 * time.Second), IdleTimeout: Duration(10 * time.Minute),
		KeepAlive: Duration(time.Minute), QueueSize: 1000, StreamsPerIP: 16,
		StanzasPerSecond: 2000, StanzaBurst: 10000,
	}
}

func (v *validator) s2s() {
	s, d := v.c.S2S, defaultS2S()
	for dom, addr := range s.Routes {
		if j, err := jid.New("", dom, ""); err != nil || j.Domain() != dom {
			v.add("s2s.routes", fmt.Sprintf("has the domain %q; write domains in canonical (lower-case) form, e.g. \"example.org\"", dom))
		}
		host, port, err := net.SplitHostPort(addr)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n <= 0 || n > 65535 {
			v.add("s2s.routes", fmt.Sprintf("maps %q to %q; write \"host:port\", e.g. \"192.0.2.7:5269\"", dom, addr))
		}
	}
	v.positiveDuration("s2s.connect_timeout", s.ConnectTimeout, d.ConnectTimeout)
	v.positiveDuration("s2s.idle_timeout", s.IdleTimeout, d.IdleTimeout)
	v.positiveDuration("s2s.keepalive", s.KeepAlive, d.KeepAlive)
	for _, i := range []struct {
		key      string
		val, def int
	}{
		{"s2s.queue_size", s.QueueSize, d.QueueSize},
		{"s2s.streams_per_ip", s.StreamsPerIP, d.StreamsPerIP},
		{"s2s.stanzas_per_second", s.StanzasPerSecond, d.StanzasPerSecond},
		{"s2s.stanza_burst", s.StanzaBurst, d.StanzaBurst},
	} {
		if i.val <= 0 {
			v.add(i.key, fmt.Sprintf("is %d; must be greater than 0 (the default is %d)", i.val, i.def))
		}
	}
	v.components()
}

func (v *validator) components() {
	for dom, secret := range v.c.Components.Secrets {
		if j, err := jid.New("", dom, ""); err != nil || j.Domain() != dom {
			v.add("components.secrets", fmt.Sprintf("has the domain %q; write domains in canonical (lower-case) form, e.g. \"bot.example.org\"", dom))
		}
		if v.c.Serves(dom) {
			v.add("components.secrets", fmt.Sprintf("names %q, which is a user domain in domains; a component needs a domain of its own", dom))
		}
		if secret == "" {
			v.add("components.secrets", fmt.Sprintf("gives %q an empty secret; set a long random string the component also knows", dom))
		}
	}
}
