package register

import (
	"context"
	"errors"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/limits"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

const instructions = "Choose a username and a password (at least 8 characters) for your new account."

// fields answers the pre-auth iq get with the fields to fill (§3.1), or
// service-unavailable when registration is off (§3.1: "If the host does
// not support In-Band Registration, it MUST return service-unavailable").
func (m *Module) fields(_ context.Context, _ module.PreAuth, _ stanza.IQ) (*stanza.Element, error) {
	if !m.enabled {
		return nil, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "in-band registration is disabled on this server")
	}
	return query(text("instructions", instructions), stanza.New(NS, "username"), stanza.New(NS, "password")), nil
}

// create registers a new account from a client that has not
// authenticated (§3.1, §3.1.1).
func (m *Module) create(ctx context.Context, p module.PreAuth, iq stanza.IQ) (_ *stanza.Element, err error) {
	defer func() { mResults.WithLabelValues("create", result(err)).Inc() }()
	defer scrubOnError(iq.Payload, &err)
	if !m.enabled {
		return nil, stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "in-band registration is disabled on this server")
	}
	q := iq.Payload
	if q.Child(NS, "remove") != nil {
		return nil, stanza.Errorf(stanza.Cancel, stanza.UnexpectedRequest, "log in to remove your account")
	}
	user, password, serr := newAccount(q, p.Domain)
	if serr != nil {
		return nil, serr
	}
	release, err := m.limiter.ReserveRegistration(p.Addr)
	if errors.Is(err, limits.ErrTooManyRegistrations) {
		m.log.Info("registration throttled", "peer", p.Addr)
		return nil, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "too many accounts were registered from your address; try again later")
	} else if err != nil {
		return nil, err
	}
	if err := m.accounts.Create(ctx, user, password); err != nil {
		release()
		return nil, storeError("create", user, err)
	}
	m.log.Info("account registered in-band", "jid", user, "peer", p.Addr)
	return nil, nil
}

// newAccount reads and checks the username and password of a
// registration (§3.1: missing or empty fields are not-acceptable).
func newAccount(q *stanza.Element, domain string) (jid.JID, string, *stanza.Error) {
	u, pw := q.Child(NS, "username"), q.Child(NS, "password")
	if u == nil || pw == nil || u.Text() == "" {
		return jid.JID{}, "", stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "a registration needs <username/> and <password/>")
	}
	user, err := jid.New(u.Text(), domain, "")
	if err != nil || user.Local() == "" {
		return jid.JID{}, "", stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the username is not allowed in an address")
	}
	if serr := checkPassword(pw.Text(), user.Local()); serr != nil {
		return jid.JID{}, "", serr
	}
	return user, pw.Text(), nil
}
