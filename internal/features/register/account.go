package register

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// current answers a logged-in user's iq get (§3.1): they are registered.
func (m *Module) current(_ context.Context, iq stanza.IQ) (*stanza.Element, error) {
	user := iq.From.Bare()
	if err := ownDomain(iq); err != nil {
		return nil, err
	}
	return query(
		stanza.New(NS, "registered"),
		text("instructions", "Send a new password to change it, or <remove/> to delete this account."),
		text("username", user.Local()),
		stanza.New(NS, "password"),
	), nil
}

// ownDomain refuses requests to register with another served domain
// while logged in.
func ownDomain(iq stanza.IQ) *stanza.Error {
	if !iq.To.IsZero() && iq.To.Domain() != iq.From.Domain() {
		return stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "log in to %s to manage an account there", iq.To.Domain())
	}
	return nil
}

// change handles a logged-in user's iq set: removal (§3.2) or password
// change (§3.3). Both work whether or not registration is enabled.
func (m *Module) change(ctx context.Context, iq stanza.IQ) (_ *stanza.Element, err error) {
	defer scrubOnError(iq.Payload, &err)
	if serr := ownDomain(iq); serr != nil {
		return nil, serr
	}
	if iq.Payload.Child(NS, "remove") != nil {
		err = m.remove(ctx, iq)
		mResults.WithLabelValues("remove", result(err)).Inc()
		return nil, err
	}
	err = m.changePassword(ctx, iq)
	mResults.WithLabelValues("password", result(err)).Inc()
	return nil, err
}

// changePassword sets a new password for the sender's account (§3.3). The
// username, when given, must be the sender's own.
func (m *Module) changePassword(ctx context.Context, iq stanza.IQ) error {
	user := iq.From.Bare()
	q := iq.Payload
	pw := q.Child(NS, "password")
	if pw == nil {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "a password change needs <password/>")
	}
	if u := q.Child(NS, "username"); u != nil {
		if j, err := jid.New(u.Text(), user.Domain(), ""); err != nil || j != user {
			return stanza.Errorf(stanza.Auth, stanza.Forbidden, "you can only change the password of your own account")
		}
	}
	if serr := checkPassword(pw.Text(), user.Local()); serr != nil {
		return serr
	}
	if err := m.accounts.SetPassword(ctx, user, pw.Text()); err != nil {
		return storeError("set password of", user, err)
	}
	m.log.Info("password changed in-band", "jid", user)
	return nil
}

// remove deletes the sender's account (§3.2) and, once the result is
// queued, ends every session of the user with <not-authorized/>.
func (m *Module) remove(ctx context.Context, iq stanza.IQ) error {
	if iq.Payload.NumChildElements() != 1 {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "<remove/> must be the only child of <query/>")
	}
	user := iq.From.Bare()
	if err := m.accounts.Delete(ctx, user); err != nil {
		return storeError("remove", user, err)
	}
	m.log.Info("account removed in-band", "jid", user)
	module.AfterReply(ctx, func() { m.endSessions(user) })
	return nil
}

// endSessions closes the sessions of a removed account, the requester's
// included (its result is queued before its stream error). Close only asks
// each session to end, so no slow peer holds the requester.
func (m *Module) endSessions(user jid.JID) {
	for _, s := range m.host.Sessions(user) {
		s.Close(stream.NotAuthorized, "the account was removed")
	}
}
