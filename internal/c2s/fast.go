package c2s

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/metrics"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// fastLogin is what a XEP-0484 token login leaves for its <success/>.
type fastLogin struct {
	token      storage.FastToken
	invalidate bool
}

// fastOffered reports whether FAST is on (sasl2.fast, with a token store).
func (s *Session) fastOffered() bool {
	c := s.srv.cfg.SASL2
	return c.Enabled && c.FAST && s.srv.tokens != nil
}

// fastFeature is FAST's entry in SASL2's <inline/>: the HT mechanisms this
// connection can use (a channel-binding variant only where its binding
// type is offered), or nil.
func (s *Session) fastFeature(opts sasl.Options) *stanza.Element {
	mechs := sasl.HTMechanisms(opts)
	if !s.fastOffered() || len(mechs) == 0 {
		return nil
	}
	f := stanza.New(NSFAST, "fast")
	for _, m := range mechs {
		f.Append(stanza.New(NSFAST, "mechanism").AppendText(m))
	}
	return f
}

// fastMechanism reports whether mech is a FAST mechanism offered here.
func (s *Session) fastMechanism(mech string) bool {
	return s.fastOffered() && slices.Contains(sasl.HTMechanisms(s.saslOptions()), mech)
}

// checkTokenRequest refuses a <request-token/> for a mechanism not offered.
func (s *Session) checkTokenRequest(mech string) *sasl.Failure {
	if mech == "" || s.fastMechanism(mech) {
		return nil
	}
	return clientFailure(sasl.InvalidMechanism, "request-token names a FAST mechanism this server does not offer here", sasl.ReasonNotOffered)
}

// fastAuthenticate runs a token login (XEP-0484 §"Client authenticates
// using FAST"): one message, verified against the tokens of the account's
// user agent, with the replay counter.
func (s *Session) fastAuthenticate(ctx context.Context, el *stanza.Element) error {
	mech := s.lg().mech
	if !s.fastMechanism(mech) {
		return s.sasl2Fail(clientFailure(sasl.InvalidMechanism, mech+" is not offered here", sasl.ReasonNotOffered))
	}
	fe := el.Child(NSFAST, "fast")
	ir := el.Child(NSSASL2, "initial-response")
	switch {
	case fe == nil:
		return s.sasl2Fail(clientFailure(sasl.MalformedRequest, "a token login needs <fast xmlns='urn:xmpp:fast:0'/>", sasl.ReasonMalformed))
	case s.lg().s2.agent.id == "":
		return s.sasl2Fail(clientFailure(sasl.MalformedRequest, "a token login needs the user-agent id the token was issued to", sasl.ReasonMalformed))
	case ir == nil:
		return s.sasl2Fail(clientFailure(sasl.MalformedRequest, "a token login needs an initial response", sasl.ReasonMalformed))
	}
	count, err := parseCount(fe.Attr("count"), fe.HasAttr("count"))
	if err != nil {
		return s.sasl2Fail(clientFailure(sasl.MalformedRequest, "count must be a non-negative integer", sasl.ReasonMalformed))
	}
	in, err := decodeSASL2(ir.Text())
	if err != nil {
		return s.sasl2Fail(clientFailure(sasl.IncorrectEncoding, "", sasl.ReasonIncorrectEncoding))
	}
	req, err := sasl.ParseHT(mech, s.saslOptions(), in)
	if err != nil {
		return s.sasl2Error(err)
	}
	s.lg().user = req.Authcid
	user, ok := s.tokenUser(req.Authcid)
	if !ok {
		return s.sasl2Fail(clientFailure(sasl.NotAuthorized, "authentication failed", sasl.ReasonUnknownUser))
	}
	tok, err := s.matchToken(ctx, user, req, count)
	if err != nil {
		return s.sasl2Error(err)
	}
	if f := s.refuseDisabled(ctx, user); f != nil {
		return s.sasl2Fail(f)
	}
	inv := fe.Attr("invalidate")
	s.lg().s2.fast = &fastLogin{token: tok, invalidate: inv == "1" || inv == "true"}
	cb := "n"
	if t := sasl.HTBinding(mech); t != "" {
		cb = "p=" + t
	}
	return s.sasl2Success(ctx, user, cb, req.ServerFinal(tok.Key))
}

// parseCount reads the 'count' attribute: -1 when absent.
func parseCount(v string, present bool) (int64, error) {
	if !present {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, strconv.ErrSyntax
	}
	return n, nil
}

// tokenUser is the account an HT authcid names: a username, or the bare
// JID of an account on this stream's domain (XEP-0484's example).
func (s *Session) tokenUser(authcid string) (jid.JID, bool) {
	if j, err := jid.Parse(authcid); err == nil && j.Local() != "" {
		return j, j.IsBare() && j.Domain() == s.domain
	}
	j, err := jid.New(authcid, s.domain, "")
	return j, err == nil
}

// matchToken finds the token of user's agent that req proves, checks its
// mechanism and expiry, and records the use under its replay counter.
func (s *Session) matchToken(ctx context.Context, user jid.JID, req *sasl.HTRequest, count int64) (storage.FastToken, error) {
	cands, err := s.srv.tokens.Candidates(ctx, user, s.lg().s2.agent.id)
	if err != nil {
		return storage.FastToken{}, err
	}
	match := -1
	for i := range cands { // every candidate, whether or not one matched
		if req.Verify(cands[i].Key) {
			match = i
		}
	}
	if match < 0 {
		return storage.FastToken{}, clientFailure(sasl.NotAuthorized, "authentication failed", sasl.ReasonBadToken)
	}
	tok := cands[match]
	switch {
	case tok.Mechanism != req.Mechanism:
		return tok, clientFailure(sasl.NotAuthorized, "this token was issued for another mechanism", sasl.ReasonTokenMech)
	case !time.Now().Before(tok.Expires):
		return tok, clientFailure(sasl.CredentialsExpired, "the token has expired; log in with your password", sasl.ReasonTokenExpired)
	}
	ok, err := s.srv.tokens.Use(ctx, user, tok, count)
	if err != nil {
		return tok, err
	}
	if !ok {
		return tok, clientFailure(sasl.NotAuthorized, "token count already used (replay) or token gone", sasl.ReasonTokenReplay)
	}
	return tok, nil
}

// fastSuccess does the token work of a successful login and returns the
// <token/> for its <success/>, or nil: it invalidates the token used when
// asked, and issues a new one when the client asked (<request-token/>) or
// the token used is past half its lifetime (rotation, XEP-0484 §4.4). A
// store error is logged: the login stands, without a new token.
func (s *Session) fastSuccess(ctx context.Context, st *sasl2State) *stanza.Element {
	if !s.fastOffered() {
		return nil
	}
	mech := st.requestToken
	if fl := st.fast; fl != nil {
		if fl.invalidate {
			if _, err := s.srv.tokens.Delete(ctx, s.user, fl.token.Key); err != nil {
				s.srv.log.Warn("FAST: invalidate token", "jid", s.user, "stream_id", s.id, "err", err)
			}
		} else if mech == "" && time.Since(fl.token.Created) > s.srv.cfg.SASL2.FASTTokenLifetime.D()/2 {
			mech = fl.token.Mechanism
		}
	}
	if mech == "" {
		return nil
	}
	return s.issueToken(ctx, mech, st.agent.id)
}

// issueToken stores a new token of mech for the account and agent and
// returns its <token/>.
func (s *Session) issueToken(ctx context.Context, mech, agent string) *stanza.Element {
	token, key := sasl.NewHTToken()
	now := time.Now()
	exp := now.Add(s.srv.cfg.SASL2.FASTTokenLifetime.D())
	t := storage.FastToken{Key: key, Agent: agent, Mechanism: mech, Created: now, Expires: exp}
	if err := s.srv.tokens.Issue(ctx, s.user, t, s.srv.cfg.SASL2.FASTMaxTokens); err != nil {
		s.srv.log.Warn("FAST: issue token", "jid", s.user, "stream_id", s.id, "err", err)
		return nil
	}
	mFASTTokens.Inc()
	s.srv.log.Debug("FAST token issued", "jid", s.user, "stream_id", s.id, "mechanism", mech, "expires", exp)
	return stanza.New(NSFAST, "token").
		SetAttr("expiry", exp.UTC().Format("2006-01-02T15:04:05Z")).
		SetAttr("token", token)
}

var mFASTTokens = metrics.Register(prometheus.NewCounter(prometheus.CounterOpts{
	Name: "parley_fast_tokens_issued_total", Help: "XEP-0484 FAST tokens issued (on request and by rotation).",
}))
