package register

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/limits"
	"github.com/parleyim/parley/internal/metrics"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// Namespaces of XEP-0077.
const (
	NS        = "jabber:iq:register"
	NSFeature = "http://jabber.org/features/iq-register"
)

// MinPasswordLength is the fewest characters (Unicode code points) a
// password set through this package may have.
const MinPasswordLength = 8

// maxPasswordBytes bounds a password (the pre-auth stanza limit bounds it
// too, but a logged-in user has more room).
const maxPasswordBytes = 1024

var mResults = metrics.Register(prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "parley_register_total",
	Help: "In-band registration requests (XEP-0077) by operation and result.",
}, []string{"op", "result"}))

// Config is what the module needs.
type Config struct {
	Accounts *account.Store
	Host     module.Host       // ends the sessions of a removed account
	Limiter  *limits.IPLimiter // throttles registrations per address
	Enabled  bool              // allow_registration: new accounts in-band
	Log      *slog.Logger
}

// Module answers jabber:iq:register before and after authentication.
type Module struct {
	accounts *account.Store
	host     module.Host
	limiter  *limits.IPLimiter
	enabled  bool
	log      *slog.Logger
}

// New returns the registration module.
func New(c Config) *Module {
	return &Module{
		accounts: c.Accounts, host: c.Host, limiter: c.Limiter, enabled: c.Enabled,
		log: c.Log.With("component", "register"),
	}
}

// Register declares the handlers, the disco feature and the pre-auth
// stream feature.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.PreAuthFeature(m.streamFeature)
	reg.PreAuthIQ(stanza.Get, NS, "query", m.fields)
	reg.PreAuthIQ(stanza.Set, NS, "query", m.create)
	reg.IQ(module.Server, stanza.Get, NS, "query", m.current)
	reg.IQ(module.Server, stanza.Set, NS, "query", m.change)
}

var _ module.Registrar = (*Module)(nil)

// streamFeature offers registration (XEP-0077 §8) when it is enabled.
func (m *Module) streamFeature(module.PreAuth) *stanza.Element {
	if !m.enabled {
		return nil
	}
	return stanza.New(NSFeature, "register")
}

func query(children ...*stanza.Element) *stanza.Element {
	return stanza.New(NS, "query").Append(children...)
}

func text(local, s string) *stanza.Element {
	return stanza.New(NS, local).AppendText(s)
}

// scrubOnError removes the password from a request that failed, so the
// error reply (which echoes the payload) does not carry it back (§3.3).
func scrubOnError(q *stanza.Element, err *error) {
	if *err != nil {
		q.RemoveChildren(func(c *stanza.Element) bool { return c.Local == "password" })
	}
}

// checkPassword applies the password policy; username is the account's
// localpart.
func checkPassword(password, username string) *stanza.Error {
	switch {
	case password == "":
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "a non-empty password is required")
	case len(password) > maxPasswordBytes:
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the password is longer than %d bytes", maxPasswordBytes)
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the password is too weak: use at least %d characters", MinPasswordLength)
	case strings.EqualFold(password, username):
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the password is too weak: it must not be the username")
	}
	return nil
}

// storeError maps an account.Store error to the stanza error for op, or
// wraps an unexpected one.
func storeError(op string, user jid.JID, err error) error {
	switch {
	case errors.Is(err, account.ErrExists):
		return stanza.Errorf(stanza.Cancel, stanza.Conflict, "the username %s is taken", user.Local())
	case errors.Is(err, account.ErrNotFound):
		return stanza.Errorf(stanza.Auth, stanza.RegistrationRequired, "the account %s does not exist", user)
	case errors.Is(err, account.ErrWeakPassword), errors.Is(err, account.ErrInvalidPassword):
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the password contains characters that are not allowed")
	case errors.Is(err, account.ErrInvalidJID):
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the username is not allowed")
	}
	return fmt.Errorf("register: %s %s: %w", op, user, err)
}

// result names the outcome of err for the metrics.
func result(err error) string {
	var se *stanza.Error
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &se):
		return se.Condition
	}
	return "error"
}
