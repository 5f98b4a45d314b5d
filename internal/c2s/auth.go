package c2s

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/limits"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// maxAuthAttempts bounds the failed logins (sasl.Failure.FailedLogin:
// wrong password, unknown user, channel binding mismatch) on one stream. A
// client may try each mechanism it is offered once (slixmpp, for one, walks
// down the list after each failure, ending with PLAIN), so the stream ends
// only past both this and the number of mechanisms offered. Other failures
// are bounded by limits.preauth_elements, like everything before login.
const maxAuthAttempts = 3

// loginState is what the stream keeps while it is not logged in: the
// exchange in progress and what failed before. It is dropped at login, so
// a bound session does not carry it (idle memory, TestIdleConnectionSize).
type loginState struct {
	sasl  *sasl.Server
	mech  string      // as the client named it; see mechanismLabel
	user  string      // the username of the current or last exchange, for logs
	fails int         // failed logins on this stream
	s2    *sasl2State // a SASL2 exchange in progress (sasl2.go), else nil
}

// lg returns the login state, made on first use.
func (s *Session) lg() *loginState {
	if s.login == nil {
		s.login = &loginState{}
	}
	return s.login
}

// lookupCredentials adapts the account store to SASL.
func (s *Session) lookupCredentials(ctx context.Context, username string, h sasl.Hash) (sasl.Credentials, error) {
	j, err := jid.New(username, s.domain, "")
	if err != nil {
		return sasl.Credentials{}, sasl.ErrUnknownUser
	}
	c, err := s.srv.accounts.Credentials(ctx, j, h)
	switch {
	case errors.Is(err, account.ErrNotFound):
		return sasl.Credentials{}, sasl.ErrUnknownUser
	case errors.Is(err, account.ErrNoHash):
		return sasl.Credentials{}, sasl.ErrNoCredentials
	}
	return c, err
}

// handleSASL runs one step of a SASL exchange (RFC 6120 §6.4). It reports
// restart=true after <success/>.
func (s *Session) handleSASL(ctx context.Context, el *stanza.Element) (bool, error) {
	switch el.Local {
	case "abort":
		s.lg().sasl = nil
		return false, s.saslFailure(clientFailure(sasl.Aborted, "", sasl.ReasonAborted))
	case "auth":
		if s.lg().sasl != nil {
			s.lg().sasl = nil
			return false, s.saslFailure(clientFailure(sasl.MalformedRequest, "an exchange is already in progress", sasl.ReasonOutOfOrder))
		}
		s.lg().mech, s.lg().user = el.Attr("mechanism"), ""
		srv, err := sasl.NewServer(s.lg().mech, s.saslOptions())
		if err != nil {
			return false, s.saslError(err)
		}
		s.lg().sasl = srv
	case "response":
		if s.lg().sasl == nil {
			return false, s.saslFailure(clientFailure(sasl.MalformedRequest, "no exchange in progress", sasl.ReasonOutOfOrder))
		}
	}
	in, err := decodeSASL(el.Text(), el.Local == "auth")
	if err != nil {
		s.lg().sasl = nil
		return false, s.saslFailure(clientFailure(sasl.IncorrectEncoding, "", sasl.ReasonIncorrectEncoding))
	}
	out, done, err := s.lg().sasl.Step(ctx, in)
	s.lg().user = s.lg().sasl.Username()
	if err != nil {
		s.lg().sasl = nil
		return false, s.saslError(err)
	}
	if !done {
		return false, s.out.writeNow(saslElement("challenge", out))
	}
	return s.saslSuccess(ctx, out)
}

// decodeSASL decodes the base64 payload. In <auth/>, an empty element means
// "no initial response" (nil) and "=" an empty one.
func decodeSASL(text string, initial bool) ([]byte, error) {
	switch text {
	case "":
		if initial {
			return nil, nil
		}
		return []byte{}, nil
	case "=":
		return []byte{}, nil
	}
	return base64.StdEncoding.Strict().DecodeString(text)
}

func saslElement(name string, data []byte) []byte {
	b := []byte("<" + name + " xmlns='" + NSSASL + "'")
	if data == nil {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	if len(data) == 0 {
		b = append(b, '=')
	} else {
		b = base64.StdEncoding.AppendEncode(b, data)
	}
	return append(b, "</"+name+">"...)
}

// authenticated checks the identity the finished exchange proved (the
// account, and the authorization identity if the client gave one) and
// returns the account's bare JID.
func (s *Session) authenticated(ctx context.Context) (jid.JID, *sasl.Failure) {
	user, err := jid.New(s.lg().sasl.Username(), s.domain, "")
	if err != nil {
		return jid.JID{}, clientFailure(sasl.NotAuthorized, "", sasl.ReasonUnknownUser)
	}
	if az := s.lg().sasl.Authzid(); az != "" {
		if a, err := jid.Parse(az); err != nil || a != user {
			return jid.JID{}, clientFailure(sasl.InvalidAuthzid,
				"you may only act as the account you authenticated as", sasl.ReasonInvalidAuthzid)
		}
	}
	return user, s.refuseDisabled(ctx, user)
}

// refuseDisabled answers account-disabled (RFC 6120 §6.5.1) for an account
// an administrator disabled (XEP-0133 §4.6). It runs after the exchange
// proved the password or token, so that only the account's owner learns it.
func (s *Session) refuseDisabled(ctx context.Context, user jid.JID) *sasl.Failure {
	disabled, err := s.srv.accounts.Disabled(ctx, user)
	switch {
	case err != nil:
		s.srv.log.Warn("login: cannot read the disabled state", "jid", user, "err", err)
		return clientFailure(sasl.TemporaryAuthFailure, "", sasl.ReasonStore)
	case disabled:
		return clientFailure(sasl.AccountDisabled, "this account is disabled by an administrator", sasl.ReasonAccountRefused)
	}
	return nil
}

// loggedIn records that the stream is authenticated as user.
func (s *Session) loggedIn(user jid.JID, cb string) {
	s.user = user
	s.state = stateAuthenticated
	mAuth.WithLabelValues("success", mechanismLabel(s.lg().mech)).Inc()
	s.srv.log.Info("authenticated", "jid", user, "peer", s.addr, "stream_id", s.id, "mechanism", s.lg().mech,
		"channel_binding", cb)
	s.recordMechanism(mechanismLabel(s.lg().mech))
	s.login = nil
}

func (s *Session) saslSuccess(ctx context.Context, final []byte) (bool, error) {
	user, f := s.authenticated(ctx)
	if f != nil {
		s.lg().sasl = nil
		return false, s.saslFailure(f)
	}
	cb := s.lg().sasl.ChannelBinding()
	s.lg().sasl = nil
	s.loggedIn(user, cb)
	if err := s.out.writeNow(saslElement("success", final)); err != nil {
		return false, err
	}
	s.tr.Restart(s.limitsFull())
	return true, nil
}

// clientFailure is a failure this package decides itself (it owns the
// elements the sasl package does not see).
func clientFailure(cond, text, reason string) *sasl.Failure {
	return &sasl.Failure{Condition: cond, Text: text, Reason: reason}
}

// saslError answers an error from the sasl package.
func (s *Session) saslError(err error) error {
	var f *sasl.Failure
	if !errors.As(err, &f) {
		s.srv.log.Error("sasl step failed", "peer", s.addr, "stream_id", s.id, "err", err)
		f = clientFailure(sasl.TemporaryAuthFailure, "", sasl.ReasonStore)
	}
	return s.saslFailure(f)
}

// saslFailure logs and counts f (once), and sends <failure/>. Failed
// logins wait a uniform delay first, count against the address and, past
// the limits, close the stream.
func (s *Session) saslFailure(f *sasl.Failure) error {
	mech := mechanismLabel(s.lg().mech)
	login := f.FailedLogin()
	// Failed logins and downgrades at info; the rest (a binding type or
	// mechanism the client cannot use here, malformed input) at debug, as
	// clients that walk down the mechanism list meet them on every login.
	level := slog.LevelDebug
	if login || f.Reason == sasl.ReasonDowngrade {
		level = slog.LevelInfo
	}
	s.srv.log.Log(context.Background(), level, "sasl failure", "peer", s.addr, "stream_id", s.id, "mechanism", mech,
		"user", s.lg().user, "reason", f.Reason, "condition", f.Condition, "text", f.Text, "failed_login", login)
	mSASLFailures.WithLabelValues(f.Reason, mech).Inc()
	if login {
		mAuth.WithLabelValues("failure", mech).Inc()
		if d := s.srv.cfg.Limits.AuthFailureDelay.D(); d > 0 {
			time.Sleep(d)
		}
	}
	if err := s.sendSASLFailure(f.Condition, f.Text); err != nil {
		return err
	}
	if login {
		s.lg().fails++
		if err := s.srv.limiter.AuthFailed(s.addr); errors.Is(err, limits.ErrBanned) {
			s.srv.log.Warn("address banned after failed logins", "peer", s.addr, "stream_id", s.id)
			return stream.New(stream.PolicyViolation, "too many failed logins from your address")
		}
		if s.lg().fails >= max(maxAuthAttempts, len(sasl.Mechanisms(s.saslOptions()))) {
			return stream.New(stream.PolicyViolation, "too many failed login attempts")
		}
	}
	return nil
}

// mechanismLabel is the mechanism for logs and metric labels: a name the
// client chose, so anything but a known mechanism becomes "other".
// The label is never the client's string itself, which is a substring of
// the <auth/> element: Info keeps the label as long as the session lives,
// and must not keep the element's whole text (idle memory).
func mechanismLabel(m string) string {
	for _, k := range knownMechanisms {
		if m == k {
			return k
		}
	}
	if sasl.IsHT(m) {
		return strings.Clone(m)
	}
	return "other"
}

var knownMechanisms = [...]string{sasl.Plain, sasl.ScramSHA1, sasl.ScramSHA256, sasl.ScramSHA512,
	sasl.ScramSHA1Plus, sasl.ScramSHA256Plus, sasl.ScramSHA512Plus}

func (s *Session) sendSASLFailure(cond, text string) error {
	if s.lg().s2 != nil {
		return s.sendSASL2Failure(cond, text)
	}
	b := []byte("<failure xmlns='" + NSSASL + "'><" + cond + "/>")
	if text != "" {
		b = append(b, "<text xml:lang='en'>"...)
		b = stanza.AppendEscapedText(b, text)
		b = append(b, "</text>"...)
	}
	b = append(b, "</failure>"...)
	return s.out.writeNow(b)
}
