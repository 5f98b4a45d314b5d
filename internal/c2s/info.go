package c2s

import (
	"crypto/tls"
	"strings"
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
	// SM is the stream management state (XEP-0198): "" (not enabled),
	// "enabled", "resumable", or "hibernated" (waiting for a resumption).
	SM string
	// Client is the client software, as the client named it in its
	// XEP-0388 <user-agent/> or answered to a XEP-0092 version query
	// (SetClientSoftware); "" while unknown.
	Client string

	sm *smState // set by recordSM; read under its hmu
}

// namedTransport is a transport that names itself for Info (WebSocket,
// BOSH); the TCP transport says "tcp" or "tls".
type namedTransport interface{ Name() string }

// Info returns what the session recorded when it bound its resource; before
// that, only the mechanism once authenticated. Safe from any goroutine.
func (s *Session) Info() Info {
	p := s.info.Load()
	if p == nil {
		return Info{}
	}
	in := *p
	if st := in.sm; st != nil {
		in.SM = "enabled"
		if st.resumable {
			in.SM = "resumable"
		}
		st.hmu.Lock()
		if st.phase == smHibernated {
			in.SM = "hibernated"
		}
		st.hmu.Unlock()
	}
	in.sm = nil
	return in
}

// recordSM is called by the owner when stream management is enabled.
func (s *Session) recordSM(st *smState) {
	s.updateInfo(true, func(in *Info) { in.sm = st })
}

// updateInfo replaces the session's Info with a copy changed by f, by
// compare-and-swap, so that changes from different goroutines (the owner's
// records, SetClientSoftware) are never lost. Without create, a session
// with no Info (not logged in, or ended) is left without one.
func (s *Session) updateInfo(create bool, f func(*Info)) {
	for {
		p := s.info.Load()
		in := Info{}
		if p != nil {
			in = *p
		} else if !create {
			return
		}
		f(&in)
		if s.info.CompareAndSwap(p, &in) {
			return
		}
	}
}

// recordMechanism is called by the owner at authentication, while the
// login state (which holds the mechanism) still exists; recordInfo keeps it.
func (s *Session) recordMechanism(mech string) {
	s.info.Store(&Info{Mechanism: mech})
}

// recordInfo is called by the owner when the resource is bound; it keeps
// the mechanism and the client software recorded before.
func (s *Session) recordInfo() {
	in := Info{Addr: s.addr.String(), Transport: "tcp", Bound: time.Now()}
	st, direct := s.tr.TLS()
	if n, ok := s.tr.(namedTransport); ok {
		in.Transport = n.Name()
	} else if direct && st != nil {
		in.Transport = "tls"
	}
	if st != nil {
		in.TLSVersion = tls.VersionName(st.Version)
	}
	s.updateInfo(true, func(old *Info) {
		in.Mechanism, in.Client = old.Mechanism, old.Client
		*old = in
	})
}

// maxClientText bounds the client software description kept for Info.
const maxClientText = 200

// ClientSoftware implements module.ClientSoftware: the client software
// recorded for Info, "" while unknown.
func (s *Session) ClientSoftware() string { return s.Info().Client }

// SetClientSoftware implements module.ClientSoftware: it records what the
// client says it is (printable, at most maxClientText bytes). Safe from
// any goroutine (updateInfo); after the session ended it does nothing.
func (s *Session) SetClientSoftware(desc string) {
	desc = printable(strings.TrimSpace(desc))
	if len(desc) > maxClientText {
		desc = strings.ToValidUTF8(desc[:maxClientText], "") + "…"
	}
	s.updateInfo(false, func(in *Info) { in.Client = desc })
}

// agentDescription is what a XEP-0388 <user-agent/> says of the client
// software: "software (device)", or "" when it names no software.
func agentDescription(a userAgent) string {
	switch {
	case a.software == "":
		return ""
	case a.device == "":
		return a.software
	}
	return a.software + " (" + a.device + ")"
}

// Name implements namedTransport: "websocket" (RFC 7395).
func (t *wsTransport) Name() string { return "websocket" }

// Name implements namedTransport: "bosh" (XEP-0124/0206).
func (t *boshTransport) Name() string { return "bosh" }
