package c2s

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/limits"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// maxAuthAttempts is how many failed SASL attempts one stream may make.
const maxAuthAttempts = 3

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
		s.sasl = nil
		return false, s.saslFailure("aborted", "")
	case "auth":
		if s.sasl != nil {
			s.sasl = nil
			return false, s.saslFailure("malformed-request", "an exchange is already in progress")
		}
		mech := el.Attr("mechanism")
		srv, err := sasl.NewServer(mech, s.saslOptions())
		if err != nil {
			return false, s.saslError(err)
		}
		s.sasl, s.saslMech = srv, mech
	case "response":
		if s.sasl == nil {
			return false, s.saslFailure("malformed-request", "no exchange in progress")
		}
	}
	in, err := decodeSASL(el.Text(), el.Local == "auth")
	if err != nil {
		s.sasl = nil
		return false, s.saslFailure("incorrect-encoding", "")
	}
	out, done, err := s.sasl.Step(ctx, in)
	if err != nil {
		s.sasl = nil
		return false, s.saslError(err)
	}
	if !done {
		return false, s.out.writeNow(saslElement("challenge", out))
	}
	return s.saslSuccess(out)
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

func (s *Session) saslSuccess(final []byte) (bool, error) {
	user, err := jid.New(s.sasl.Username(), s.domain, "")
	if err != nil {
		s.sasl = nil
		return false, s.saslFailure("not-authorized", "")
	}
	if az := s.sasl.Authzid(); az != "" {
		if a, err := jid.Parse(az); err != nil || a != user {
			s.sasl = nil
			return false, s.saslFailure("invalid-authzid", "you may only act as the account you authenticated as")
		}
	}
	s.sasl = nil
	s.user = user
	s.state = stateAuthenticated
	mAuth.WithLabelValues("success", s.saslMech).Inc()
	s.srv.log.Info("authenticated", "jid", user, "peer", s.addr, "mechanism", s.saslMech)
	if err := s.out.writeNow(saslElement("success", final)); err != nil {
		return false, err
	}
	s.tr.Restart(s.limitsFull())
	return true, nil
}

func (s *Session) saslError(err error) error {
	var f *sasl.Failure
	if errors.As(err, &f) && f.Binding {
		// The client asked for a channel binding this connection lacks
		// (tls-unique on TLS 1.3, say): it will fall back to another
		// mechanism, so this is not a failed login.
		return s.sendSASLFailure(f.Condition, f.Text)
	}
	if errors.As(err, &f) {
		return s.saslFailure(f.Condition, f.Text)
	}
	s.srv.log.Error("sasl step failed", "peer", s.addr, "err", err)
	return s.saslFailure("temporary-auth-failure", "")
}

// saslFailure sends <failure/>. Credential failures wait a uniform delay
// first, count against the address and, past the limits, close the stream.
func (s *Session) saslFailure(cond, text string) error {
	credential := cond == "not-authorized" || cond == "invalid-authzid"
	s.srv.log.Debug("sasl failure", "peer", s.addr, "mechanism", s.saslMech, "condition", cond, "text", text)
	if credential {
		mAuth.WithLabelValues("failure", s.saslMech).Inc()
		if d := s.srv.cfg.Limits.AuthFailureDelay.D(); d > 0 {
			time.Sleep(d)
		}
	}
	if err := s.sendSASLFailure(cond, text); err != nil {
		return err
	}
	if !credential {
		return nil
	}
	s.authFail++
	if err := s.srv.limiter.AuthFailed(s.addr); errors.Is(err, limits.ErrBanned) {
		s.srv.log.Warn("address banned after failed logins", "peer", s.addr)
		return stream.New(stream.PolicyViolation, "too many failed logins from your address")
	}
	if s.authFail >= maxAuthAttempts {
		return stream.New(stream.PolicyViolation, "too many failed login attempts")
	}
	return nil
}

func (s *Session) sendSASLFailure(cond, text string) error {
	b := []byte("<failure xmlns='" + NSSASL + "'><" + cond + "/>")
	if text != "" {
		b = append(b, "<text xml:lang='en'>"...)
		b = stanza.AppendEscapedText(b, text)
		b = append(b, "</text>"...)
	}
	b = append(b, "</failure>"...)
	return s.out.writeNow(b)
}
