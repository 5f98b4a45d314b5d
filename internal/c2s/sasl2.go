package c2s

import (
	"context"
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// Namespaces of the one-round-trip login: XEP-0388 (SASL2), XEP-0386
// (Bind 2), XEP-0484 (FAST).
const (
	NSSASL2 = "urn:xmpp:sasl:2"
	NSBind2 = "urn:xmpp:bind:0"
	NSFAST  = "urn:xmpp:fast:0"
)

// Bounds on what a client may say about itself in <user-agent/>.
const (
	maxAgentID   = 256 // bytes; storage.MaxFastAgentBytes
	maxAgentText = 256 // bytes of <software/> and <device/> each
)

// userAgent is XEP-0388's <user-agent/>: the id identifies the client
// installation (Bind 2 derives the resource from it, FAST binds tokens to
// it); software and device are for the operator's log.
type userAgent struct {
	id, software, device string
}

// sasl2State is what a SASL2 login keeps from <authenticate/> to its
// outcome (XEP-0388 §"Initiation"). While it is set, the stream is in a
// SASL2 exchange: failures take the SASL2 form.
type sasl2State struct {
	agent userAgent
	bind  *stanza.Element // the XEP-0386 <bind/> request; nil without one
	// requestToken is the HT mechanism of a XEP-0484 <request-token/>, "".
	requestToken string
	// fast is a token login's outcome (fast.go); nil for other mechanisms.
	fast *fastLogin
	// resume is an XEP-0198 <resume/> inside <authenticate/>, nil if none.
	resume *stanza.Element
}

// sasl2Feature is the <authentication/> stream feature: the mechanisms of
// the classic path, and what may be done inline (Bind 2, FAST).
func (s *Session) sasl2Feature(opts sasl.Options) *stanza.Element {
	auth := stanza.New(NSSASL2, "authentication")
	for _, m := range sasl.Mechanisms(opts) {
		auth.Append(stanza.New(NSSASL2, "mechanism").AppendText(m))
	}
	inline := stanza.New(NSSASL2, "inline").Append(s.bind2Feature())
	if f := s.fastFeature(opts); f != nil {
		inline.Append(f)
	}
	if s.srv.cfg.SM.Enabled {
		inline.Append(stanza.New(NSSM, "sm")) // <resume/> inside <authenticate/>
	}
	return auth.Append(inline)
}

// handleSASL2 takes the SASL2 elements before login: <authenticate/>,
// <response/> and <abort/>. A stream is not restarted after SASL2.
func (s *Session) handleSASL2(ctx context.Context, el *stanza.Element) (bool, error) {
	switch el.Local {
	case "authenticate":
		if s.lg().sasl != nil || s.lg().s2 != nil {
			s.endSASL2()
			s.lg().s2 = &sasl2State{} // the failure takes the SASL2 form
			defer s.endSASL2()
			return false, s.saslFailure(clientFailure(sasl.MalformedRequest, "an exchange is already in progress", sasl.ReasonOutOfOrder))
		}
		return false, s.authenticate(ctx, el)
	case "response":
		if s.lg().sasl == nil || s.lg().s2 == nil {
			return false, s.sasl2Refusal(clientFailure(sasl.MalformedRequest, "no exchange in progress", sasl.ReasonOutOfOrder))
		}
		return false, s.sasl2Step(ctx, el.Text())
	case "abort":
		return false, s.sasl2Refusal(clientFailure(sasl.Aborted, "", sasl.ReasonAborted))
	}
	return false, stream.New(stream.UnsupportedStanzaType, "unexpected SASL2 element <"+el.Local+"/>")
}

// sasl2Refusal ends any exchange and answers f in the SASL2 form.
func (s *Session) sasl2Refusal(f *sasl.Failure) error {
	s.endSASL2()
	s.lg().s2 = &sasl2State{}
	defer s.endSASL2()
	return s.saslFailure(f)
}

// endSASL2 forgets the exchange in progress.
func (s *Session) endSASL2() {
	s.lg().sasl, s.lg().s2 = nil, nil
}

// authenticate starts a SASL2 exchange (XEP-0388 §"Initiation").
func (s *Session) authenticate(ctx context.Context, el *stanza.Element) error {
	st, f := parseAuthenticate(el)
	s.lg().s2 = st
	s.lg().mech, s.lg().user = el.Attr("mechanism"), ""
	if f == nil {
		f = s.checkTokenRequest(st.requestToken)
	}
	if f != nil {
		return s.sasl2Fail(f)
	}
	if sasl.IsHT(s.lg().mech) {
		return s.fastAuthenticate(ctx, el)
	}
	srv, err := sasl.NewServer(s.lg().mech, s.saslOptions())
	if err != nil {
		return s.sasl2Error(err)
	}
	s.lg().sasl = srv
	ir := el.Child(NSSASL2, "initial-response")
	if ir == nil {
		return s.sasl2Run(ctx, nil)
	}
	return s.sasl2Step(ctx, ir.Text())
}

// parseAuthenticate reads what <authenticate/> asks for besides the SASL
// exchange itself; bad input is malformed-request.
func parseAuthenticate(el *stanza.Element) (*sasl2State, *sasl.Failure) {
	st := &sasl2State{bind: el.Child(NSBind2, "bind"), resume: el.Child(NSSM, "resume")}
	if el.Attr("mechanism") == "" {
		return st, clientFailure(sasl.InvalidMechanism, "no mechanism named", sasl.ReasonUnknownMechanism)
	}
	if ua := el.Child(NSSASL2, "user-agent"); ua != nil {
		st.agent = userAgent{id: ua.Attr("id"), software: ua.ChildText(NSSASL2, "software"), device: ua.ChildText(NSSASL2, "device")}
		if ua.HasAttr("id") && (st.agent.id == "" || len(st.agent.id) > maxAgentID) {
			return st, clientFailure(sasl.MalformedRequest, "the user-agent id must be 1 to 256 bytes", sasl.ReasonMalformed)
		}
		if len(st.agent.software) > maxAgentText || len(st.agent.device) > maxAgentText {
			return st, clientFailure(sasl.MalformedRequest, "user-agent software and device are limited to 256 bytes", sasl.ReasonMalformed)
		}
	}
	if rt := el.Child(NSFAST, "request-token"); rt != nil {
		if st.requestToken = rt.Attr("mechanism"); !sasl.IsHT(st.requestToken) {
			return st, clientFailure(sasl.MalformedRequest, "request-token names no FAST mechanism", sasl.ReasonMalformed)
		}
		if st.agent.id == "" {
			return st, clientFailure(sasl.MalformedRequest, "a FAST token is issued to a user-agent id: send <user-agent id=''/>", sasl.ReasonMalformed)
		}
	}
	if st.bind != nil {
		if _, err := bindTag(st.bind); err != nil {
			return st, clientFailure(sasl.MalformedRequest, err.Error(), sasl.ReasonMalformed)
		}
	}
	return st, nil
}

// sasl2Step decodes a base64 payload (<initial-response/>, <response/>)
// and runs the mechanism on it.
func (s *Session) sasl2Step(ctx context.Context, text string) error {
	in, err := decodeSASL2(text)
	if err != nil {
		return s.sasl2Fail(clientFailure(sasl.IncorrectEncoding, "", sasl.ReasonIncorrectEncoding))
	}
	return s.sasl2Run(ctx, in)
}

// decodeSASL2 decodes SASL2 base64: an empty element is an empty message
// (XEP-0388 §"SASL Data Encoding"), white space around it is ignored.
func decodeSASL2(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if text == "" || text == "=" {
		return []byte{}, nil
	}
	return base64.StdEncoding.Strict().DecodeString(text)
}

func (s *Session) sasl2Run(ctx context.Context, in []byte) error {
	out, done, err := s.lg().sasl.Step(ctx, in)
	s.lg().user = s.lg().sasl.Username()
	if err != nil {
		return s.sasl2Error(err)
	}
	if !done {
		return s.out.writeNow(sasl2Data("challenge", out))
	}
	user, f := s.authenticated(ctx)
	if f != nil {
		return s.sasl2Fail(f)
	}
	cb := s.lg().sasl.ChannelBinding()
	return s.sasl2Success(ctx, user, cb, out)
}

// sasl2Error and sasl2Fail answer a failure and end the exchange.
func (s *Session) sasl2Error(err error) error {
	defer s.endSASL2()
	return s.saslError(err)
}

func (s *Session) sasl2Fail(f *sasl.Failure) error {
	defer s.endSASL2()
	return s.saslFailure(f)
}

// sendSASL2Failure writes XEP-0388's <failure/>: the RFC 6120 condition
// in its own namespace, and the text.
func (s *Session) sendSASL2Failure(cond, text string) error {
	b := []byte("<failure xmlns='" + NSSASL2 + "'><" + cond + " xmlns='" + NSSASL + "'/>")
	if text != "" {
		b = append(b, "<text xml:lang='en'>"...)
		b = stanza.AppendEscapedText(b, text)
		b = append(b, "</text>"...)
	}
	return s.out.writeNow(append(b, "</failure>"...))
}

// sasl2Data is a <challenge/> or <additional-data/> with a payload.
func sasl2Data(name string, data []byte) []byte {
	b := []byte("<" + name + " xmlns='" + NSSASL2 + "'>")
	b = base64.StdEncoding.AppendEncode(b, data)
	return append(b, "</"+name+">"...)
}

// sasl2Success completes the login (XEP-0388 §"Success"). Without Bind 2
// it writes <success/> and the features of the authenticated stream. With
// Bind 2 (XEP-0386) the session is bound first but made routable only
// after the <success/> is queued, so nothing routed to it can overtake its
// <success/>; then the SessionBound hooks run. FAST tokens are issued or
// invalidated (fast.go) once the login is certain.
func (s *Session) sasl2Success(ctx context.Context, user jid.JID, cb string, final []byte) error {
	st, mech := s.lg().s2, s.lg().mech
	s.endSASL2()
	s.loggedIn(user, cb)
	s.logAgent(st.agent)
	if d := agentDescription(st.agent); d != "" {
		s.SetClientSoftware(d)
	}
	if ls, ok := s.tr.(interface{ SetLimits(xmlstream.Limits) }); ok {
		ls.SetLimits(s.limitsFull())
	}
	success := stanza.New(NSSASL2, "success")
	if final != nil {
		success.Append(stanza.New(NSSASL2, "additional-data").AppendText(base64.StdEncoding.EncodeToString(final)))
	}
	if st.resume != nil {
		return s.sasl2Resume(ctx, st, success)
	}
	if st.bind == nil {
		success.Append(stanza.New(NSSASL2, "authorization-identifier").AppendText(user.String()))
		if tok := s.fastSuccess(ctx, st); tok != nil {
			success.Append(tok)
		}
		b := success.AppendXML(nil, stanza.NSClient)
		return s.out.writeNow(stream.Features(s.features()).AppendXML(b, stream.NSClient))
	}
	full, f := s.bind2Target(st)
	if f != nil {
		return s.saslFailureAfterLogin(mech, f)
	}
	s.full, s.fullStr, s.state = full, full.String(), stateBound
	bound := s.bind2Inline(ctx, st)
	success.Append(stanza.New(NSSASL2, "authorization-identifier").AppendText(s.fullStr), bound)
	if tok := s.fastSuccess(ctx, st); tok != nil {
		success.Append(tok)
	}
	if err := s.queueBound(success, bound, st.bind.Child(NSSM, "enable")); err != nil {
		// The connection is going: the session ends without entering the
		// router (and without replacing anyone); endSession still runs the
		// SessionClosed hooks for what the inline features set up.
		mSessions.Inc() // endSession counts a bound session out
		return err
	}
	s.enterRouter()
	s.notifyBound(ctx)
	return nil
}

// saslFailureAfterLogin answers a failure found after the mechanism
// succeeded (the account may not bind now): the stream stays
// unauthenticated.
func (s *Session) saslFailureAfterLogin(mech string, f *sasl.Failure) error {
	s.user, s.state = jid.JID{}, stateConnected
	s.lg().s2, s.lg().mech = &sasl2State{}, mech
	defer s.endSASL2()
	return s.saslFailure(f)
}

// logAgent logs the client's description of itself (XEP-0388
// <user-agent/>) once it has logged in.
func (s *Session) logAgent(a userAgent) {
	if a == (userAgent{}) {
		return
	}
	s.srv.log.Debug("user agent", "jid", s.user, "stream_id", s.id, "agent_id", printable(a.id),
		"software", printable(a.software), "device", printable(a.device))
}

// printable is s for a log line: valid UTF-8 without control characters.
func printable(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// queueRaw queues bs, elements that are not counted stanzas (a SASL2
// <success/>, features), in the output queue.
func (o *output) queueRaw(bs ...[]byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, b := range bs {
		if err := o.queueLocked(b); err != nil {
			return err
		}
	}
	return nil
}

// SetLimits changes the limits of the elements read next without a stream
// restart (SASL2 authenticates without one).
func (t *tcpTransport) SetLimits(l xmlstream.Limits) { t.dec.SetLimits(l) }

// SetLimits is tcpTransport's, for XMPP over WebSocket (RFC 7395), which
// SASL2 also authenticates without a restart. (BOSH reads no element
// stream of its own: its limits do not change at login.)
func (t *wsTransport) SetLimits(l xmlstream.Limits) { t.tcp.dec.SetLimits(l) }
