package lastactivity

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// NS is the XML namespace of XEP-0012.
const NS = "jabber:iq:last"

// kind names last-activity records in storage (one per account).
const kind = "last"

// closedPrio runs the logout record before the presence module's
// SessionClosed hook (priority 0) forgets the session's status.
const closedPrio = 100

// Module answers last-activity queries. Started alone gives the server
// uptime; with DB and Host set it also answers for users.
type Module struct {
	Started time.Time
	DB      *storage.DB
	Host    module.Host
	Log     *slog.Logger
	// Authorized reports whether requester may see owner's presence and
	// so their last activity (XEP-0012 §3). nil allows only the owner.
	Authorized func(ctx context.Context, owner, requester jid.JID) (bool, error)
	// Presence is the presence module, which knows the status a session
	// left with; nil records logouts without a status.
	Presence Presence

	recs *storage.Records
}

// Presence is what last activity asks the presence module (package
// presence's Module), which owns presence state.
type Presence interface {
	// UnavailableStatus returns the status text of the undirected
	// unavailable presence session c sent last, or "".
	UnavailableStatus(c module.Conn) string
}

// Register declares the handlers, the disco features and, for users, the
// hooks that record logouts.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.IQ(module.Server, stanza.Get, NS, "query", m.uptime)
	if m.DB == nil || m.Host == nil {
		return
	}
	if m.Log == nil {
		m.Log = slog.Default()
	}
	m.Log = m.Log.With("module", "lastactivity")
	m.recs = m.DB.Records(kind)
	reg.AccountFeature(NS)
	reg.IQ(module.Account, stanza.Get, NS, "query", m.user)
	reg.Hook(module.SessionClosed, closedPrio, m.closed)
}

func (m *Module) uptime(context.Context, stanza.IQ) (*stanza.Element, error) {
	return query(time.Since(m.Started), ""), nil
}

func query(d time.Duration, text string) *stanza.Element {
	secs := max(int64(d/time.Second), 0)
	return stanza.New(NS, "query").SetAttr("seconds", strconv.FormatInt(secs, 10)).AppendText(text)
}

// user answers for an account (XEP-0012 §3).
func (m *Module) user(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	owner := iq.From.Bare()
	if !iq.To.IsZero() {
		owner = iq.To.Bare()
	}
	if ok, err := m.authorized(ctx, owner, iq.From); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, stanza.Errorf(stanza.Auth, stanza.Forbidden, "you are not allowed to see this user's presence")
	}
	if m.online(owner) {
		return query(0, ""), nil
	}
	rec, found, err := m.recs.Get(ctx, owner, "")
	if err != nil {
		return nil, fmt.Errorf("lastactivity: get %s: %w", owner, err)
	}
	if !found {
		return nil, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no last activity recorded")
	}
	return query(time.Since(rec.Updated), string(rec.Data)), nil
}

func (m *Module) authorized(ctx context.Context, owner, requester jid.JID) (bool, error) {
	if m.Authorized == nil {
		return requester.Bare() == owner, nil
	}
	ok, err := m.Authorized(ctx, owner, requester)
	if err != nil {
		return false, fmt.Errorf("lastactivity: authorize %s for %s: %w", requester, owner, err)
	}
	return ok, nil
}

// online reports whether owner has an available resource.
func (m *Module) online(owner jid.JID) bool {
	for _, s := range m.Host.Sessions(owner) {
		if avail, _ := s.Presence(); avail {
			return true
		}
	}
	return false
}

// closed records the logout when the user's last session ends.
func (m *Module) closed(ctx context.Context, ev *module.Event) (bool, error) {
	owner := ev.Session.Bare()
	if len(m.Host.Sessions(owner)) > 0 {
		return false, nil
	}
	status := ""
	if m.Presence != nil && ev.Conn != nil {
		status = m.Presence.UnavailableStatus(ev.Conn)
	}
	rec := storage.Record{Data: []byte(status), Updated: time.Now()}
	if err := m.recs.Put(ctx, owner, []storage.Record{rec}, 0); err != nil {
		return false, fmt.Errorf("lastactivity: record logout of %s: %w", owner, err)
	}
	return false, nil
}

var _ module.Registrar = (*Module)(nil)
