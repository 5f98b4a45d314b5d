package c2s

import (
	"crypto/tls"
	"time"
)

// Info describes a bound session for administrators (the admin console's
// sessions page and GET /api/v1/sessions).
type Info struct {
	Addr       string    // the client's IP address
	Transport  string    // "tcp", "tls" (direct TLS, XEP-0368) or the transport's own name
	TLSVersion string    // e.g. "TLS 1.3"; "" without TLS
	Mechanism  string    // the SASL mechanism used
	Bound      time.Time // when the resource was bound
}

// namedTransport is a transport that names itself for Info (WebSocket,
// BOSH); the TCP transport says "tcp" or "tls".
type namedTransport interface{ Name() string }

// Info returns what the session recorded when it bound its resource; before
// that, only the mechanism once authenticated. Safe from any goroutine.
func (s *Session) Info() Info {
	if p, ok := s.srv.infos.Load(s); ok {
		return *p.(*Info)
	}
	return Info{}
}

// recordMechanism is called by the owner at authentication, while the
// login state (which holds the mechanism) still exists; recordInfo keeps it.
func (s *Session) recordMechanism(mech string) {
	s.srv.infos.Store(s, &Info{Mechanism: mech})
}

// recordInfo is called by the owner when the resource is bound.
func (s *Session) recordInfo() {
	in := Info{Addr: s.addr.String(), Transport: "tcp", Bound: time.Now()}
	if p, ok := s.srv.infos.Load(s); ok {
		in.Mechanism = p.(*Info).Mechanism
	}
	st, direct := s.tr.TLS()
	if n, ok := s.tr.(namedTransport); ok {
		in.Transport = n.Name()
	} else if direct && st != nil {
		in.Transport = "tls"
	}
	if st != nil {
		in.TLSVersion = tls.VersionName(st.Version)
	}
	s.srv.infos.Store(s, &in)
}
