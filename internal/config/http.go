package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// HTTP is the public HTTP server: XMPP over WebSocket (RFC 7395), BOSH
// (XEP-0124/0206) and the XEP-0156 host-meta files that let browser
// clients find them.
type HTTP struct {
	// Addr is the plain HTTP listener, e.g. ":5280"; "" disables it. Over
	// plain HTTP a client may authenticate only from loopback or through
	// one of limits.trusted_proxies (see docs/security.md).
	Addr string `toml:"addr"`
	// TLSAddr is the HTTPS listener with the domains' certificates (chosen
	// by SNI), e.g. ":5281"; "" disables it.
	TLSAddr string `toml:"tls_addr"`
	// CORSOrigins are the web origins ("https://chat.example.org") whose
	// pages may use WebSocket and BOSH; "*" allows any. Empty allows none
	// but pages served from the same origin.
	CORSOrigins []string `toml:"cors_origins"`
	// WebSocketURL and BOSHURL are the public addresses host-meta lists
	// (XEP-0156), for a server behind a proxy; "" derives them from each
	// request's host and scheme.
	WebSocketURL string `toml:"websocket_url"`
	BOSHURL      string `toml:"bosh_url"`
	// BOSH bounds the sessions of XEP-0124 (the client asks, these cap).
	BOSH BOSH `toml:"bosh"`
}

// BOSH configures XEP-0124 sessions.
type BOSH struct {
	// MaxWait is the longest a request is held waiting for data ('wait').
	MaxWait Duration `toml:"max_wait"`
	// MaxHold is the most requests held at once ('hold').
	MaxHold int `toml:"max_hold"`
	// Inactivity is how long a session may go with no request held
	// before it ends ('inactivity').
	Inactivity Duration `toml:"inactivity"`
	// Polling is the shortest interval announced for polling clients
	// (hold = 0).
	Polling Duration `toml:"polling"`
}

// DefaultHTTP is the public HTTP server's default configuration.
func DefaultHTTP() HTTP {
	return HTTP{
		Addr: ":5280", TLSAddr: ":5281", CORSOrigins: []string{"*"},
		BOSH: BOSH{MaxWait: Duration(60 * time.Second), MaxHold: 1,
			Inactivity: Duration(60 * time.Second), Polling: Duration(2 * time.Second)},
	}
}

// http checks the [http] section; its addresses are checked with the
// other listeners.
func (v *validator) http() {
	h := v.c.HTTP
	for i, o := range h.CORSOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			v.add("http.cors_origins", fmt.Sprintf("entry %d (%q) is not a web origin; write scheme and host, e.g. \"https://chat.example.org\", or \"*\" for any", i+1, o))
		}
	}
	v.publicURL("http.websocket_url", h.WebSocketURL, "ws", "wss://chat.example.org/xmpp-websocket")
	v.publicURL("http.bosh_url", h.BOSHURL, "http", "https://chat.example.org/http-bind")
	def := DefaultHTTP().BOSH
	v.positiveDuration("http.bosh.max_wait", h.BOSH.MaxWait, def.MaxWait)
	v.positiveDuration("http.bosh.inactivity", h.BOSH.Inactivity, def.Inactivity)
	v.positiveDuration("http.bosh.polling", h.BOSH.Polling, def.Polling)
	if h.BOSH.MaxHold < 0 || h.BOSH.MaxHold > 16 {
		v.add("http.bosh.max_hold", fmt.Sprintf("is %d; must be 0 to 16 (the default is %d)", h.BOSH.MaxHold, def.MaxHold))
	}
}

// publicURL checks an absolute URL whose scheme is scheme or scheme+"s".
func (v *validator) publicURL(key, s, scheme, example string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || strings.TrimSuffix(u.Scheme, "s") != scheme || u.Host == "" {
		v.add(key, fmt.Sprintf("%q is not an absolute %s:// or %ss:// URL; write e.g. %q, or \"\" to derive it from each request", s, scheme, scheme, example))
	}
}
