package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/stream"
)

// Namespaces of XEP-0357 and what it carries.
const (
	NS        = "urn:xmpp:push:0"
	NSSummary = "urn:xmpp:push:summary"
	nsPubSub  = "http://jabber.org/protocol/pubsub"
	nsData    = "jabber:x:data"
)

// kind names the registrations in storage; a record per app server and
// node.
const kind = "push"

// MaxRegistrations bounds the registrations of one account (one per
// device and app).
const MaxRegistrations = 16

// Config is what the module needs.
type Config struct {
	DB   *storage.DB
	Host module.Host
	Log  *slog.Logger
}

// Module handles enable/disable and sends the notifications.
type Module struct {
	cfg  Config
	recs *storage.Records

	mu      sync.Mutex
	missed  map[jid.JID]int    // messages notified since the user was last available
	pending map[string]pending // notifications sent and not answered, by iq id
	order   []string           // pending ids, oldest first (bounded by maxPending)
	asleep  map[module.Conn]bool
	nAsleep atomic.Int32 // len(asleep), read without the lock on every delivery
}

// pending is a notification waiting for the app server's answer.
type pending struct {
	user, service jid.JID
	name          string // the registration's record name
}

// maxPending bounds the notifications whose answers are awaited; past it
// the oldest is forgotten (its answer is then ignored).
const maxPending = 4096

// New returns the module.
func New(cfg Config) *Module {
	return &Module{cfg: cfg, recs: cfg.DB.Records(kind), missed: map[jid.JID]int{}, pending: map[string]pending{},
		asleep: map[module.Conn]bool{}}
}

// Register declares the iq handlers, the account feature and the hooks.
func (m *Module) Register(reg *module.Registry) {
	reg.IQ(module.Account, stanza.Set, NS, "enable", m.enable)
	reg.IQ(module.Account, stanza.Set, NS, "disable", m.disable)
	reg.AccountFeature(NS)
	reg.Hook(module.Offline, 10, m.offline) // before the offline store, which handles the message
	reg.Hook(module.Available, 0, m.available)
	reg.Hook(module.InboundIQ, 0, m.answer)
	reg.Hook(module.SessionHibernated, 0, m.sleep)
	reg.Hook(module.SessionResumed, 0, m.wake)
	reg.Hook(module.SessionClosed, 0, m.wake)
	reg.Hook(module.Filter, filterPrio, m.filter)
}

// filterPrio runs the hibernation check after the other delivery filters
// (blocking drops a blocked sender's message first: no notification).
const filterPrio = -100

// name is the record name of a registration.
func name(service jid.JID, node string) string { return service.String() + " " + node }

// own refuses requests about another account.
func own(iq stanza.IQ) error {
	if !iq.To.IsZero() && iq.To != iq.From.Bare() {
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "push notifications are enabled for one's own account only")
	}
	return nil
}

// enable stores a registration (§5): jid and node are required; the
// optional data form is kept as the publish-options of each notification.
func (m *Module) enable(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	if err := own(iq); err != nil {
		return nil, err
	}
	service, err := jid.Parse(iq.Payload.Attr("jid"))
	node := iq.Payload.Attr("node")
	if err != nil || service.IsZero() || node == "" {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "enable needs the app server's 'jid' and a 'node'")
	}
	reg := stanza.New(NS, "enable").SetAttr("jid", service.String()).SetAttr("node", node)
	if form := iq.Payload.Child(nsData, "x"); form != nil {
		reg.Append(form)
	}
	err = m.recs.Put(ctx, iq.From.Bare(), []storage.Record{{Name: name(service, node), Data: []byte(reg.String())}}, MaxRegistrations)
	switch {
	case errors.Is(err, storage.ErrLimit):
		return nil, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "at most %d push registrations per account", MaxRegistrations)
	case err != nil:
		return nil, fmt.Errorf("push: enable for %s: %w", iq.From.Bare(), err)
	}
	return nil, nil
}

// disable removes the registrations of an app server, or only the one of
// the given node (§6).
func (m *Module) disable(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	if err := own(iq); err != nil {
		return nil, err
	}
	service, err := jid.Parse(iq.Payload.Attr("jid"))
	if err != nil || service.IsZero() {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "disable needs the app server's 'jid'")
	}
	regs, err := m.registrations(ctx, iq.From.Bare())
	if err != nil {
		return nil, err
	}
	var names []string
	for _, r := range regs {
		if r.service == service && (iq.Payload.Attr("node") == "" || r.node == iq.Payload.Attr("node")) {
			names = append(names, name(r.service, r.node))
		}
	}
	if len(names) > 0 {
		if _, err := m.recs.Delete(ctx, iq.From.Bare(), names...); err != nil {
			return nil, fmt.Errorf("push: disable for %s: %w", iq.From.Bare(), err)
		}
	}
	return nil, nil
}

// registration is one stored <enable/>.
type registration struct {
	service jid.JID
	node    string
	options *stanza.Element // the publish-options form, or nil
}

func (m *Module) registrations(ctx context.Context, user jid.JID) ([]registration, error) {
	recs, err := m.recs.List(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("push: registrations of %s: %w", user, err)
	}
	out := make([]registration, 0, len(recs))
	for _, r := range recs {
		els, err := storage.DecodeElements(r.Data)
		if err != nil || len(els) == 0 {
			m.cfg.Log.Warn("push: unreadable registration skipped", "user", user, "name", r.Name, "err", err)
			continue
		}
		service, err := jid.Parse(els[0].Attr("jid"))
		if err != nil {
			continue
		}
		out = append(out, registration{service: service, node: els[0].Attr("node"), options: els[0].Child(nsData, "x")})
	}
	return out, nil
}

// offline notifies every registration of the recipient of a message with
// a body that found no available resource. It never handles the message:
// the offline store (or the bounce) still does.
func (m *Module) offline(ctx context.Context, ev *module.Event) (bool, error) {
	if ev.Stanza.Child(ev.Stanza.Space, "body") != nil {
		m.notify(ctx, ev.To.Bare(), ev.From)
	}
	return false, nil
}

// sleep and wake track the sessions in stream-management hibernation
// (XEP-0198): the phone lost its connection, the session waits for it.
func (m *Module) sleep(_ context.Context, ev *module.Event) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.asleep[ev.Conn] {
		m.asleep[ev.Conn] = true
		m.nAsleep.Add(1)
	}
	return false, nil
}

func (m *Module) wake(_ context.Context, ev *module.Event) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.asleep[ev.Conn] {
		delete(m.asleep, ev.Conn)
		m.nAsleep.Add(-1)
	}
	return false, nil
}

// filter notifies for a message with a body kept for a hibernated
// session; the session still gets it when it resumes.
func (m *Module) filter(ctx context.Context, ev *module.Event) (bool, error) {
	if m.nAsleep.Load() == 0 || ev.Stanza.Local != stanza.KindMessage || ev.Stanza.Child(ev.Stanza.Space, "body") == nil {
		return false, nil
	}
	m.mu.Lock()
	asleep := m.asleep[ev.Conn]
	m.mu.Unlock()
	if asleep {
		m.notify(ctx, ev.To.Bare(), ev.From)
	}
	return false, nil
}

// notify publishes a notification to every registration of user for a
// message from sender.
func (m *Module) notify(ctx context.Context, user, sender jid.JID) {
	regs, err := m.registrations(ctx, user)
	if err != nil || len(regs) == 0 {
		if err != nil {
			m.cfg.Log.Warn("push: cannot read registrations", "user", user, "err", err)
		}
		return
	}
	m.mu.Lock()
	m.missed[user]++
	count := m.missed[user]
	m.mu.Unlock()
	for _, r := range regs {
		n := notification(user, r, count, sender)
		m.await(n.Attr("id"), pending{user: user, service: r.service, name: name(r.service, r.node)})
		m.cfg.Host.Deliver(ctx, r.service, n)
	}
}

// await remembers a notification until its answer arrives.
func (m *Module) await(id string, p pending) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.order) >= maxPending {
		delete(m.pending, m.order[0])
		m.order = m.order[1:]
	}
	m.pending[id] = p
	m.order = append(m.order, id)
}

// answer consumes the app server's answer to a notification. An error
// other than a temporary one (type wait) disables the registration: the
// app server no longer knows the node, or refuses us.
func (m *Module) answer(ctx context.Context, ev *module.Event) (bool, error) {
	typ := ev.Stanza.Attr("type")
	if typ != stanza.Result && typ != stanza.TypeError {
		return false, nil
	}
	m.mu.Lock()
	p, ok := m.pending[ev.Stanza.Attr("id")]
	if ok && p.service == ev.From && p.user == ev.To {
		delete(m.pending, ev.Stanza.Attr("id"))
	} else {
		ok = false
	}
	m.mu.Unlock()
	if !ok {
		return false, nil
	}
	if e := stanza.ParseError(ev.Stanza); typ == stanza.TypeError && (e == nil || e.Type != stanza.Wait) {
		cond := "unknown"
		if e != nil {
			cond = e.Condition
		}
		m.cfg.Log.Info("push: the app server refused a notification; registration disabled", "user", p.user, "service", p.service, "condition", cond)
		if _, err := m.recs.Delete(ctx, p.user, p.name); err != nil {
			m.cfg.Log.Warn("push: cannot disable a registration", "user", p.user, "err", err)
		}
	}
	return true, nil
}

// available resets the count of missed messages.
func (m *Module) available(_ context.Context, ev *module.Event) (bool, error) {
	m.mu.Lock()
	delete(m.missed, ev.From.Bare())
	m.mu.Unlock()
	return false, nil
}

// notification builds the publish of §7: the summary form without the
// body, and the registration's publish-options.
func notification(user jid.JID, r registration, count int, sender jid.JID) *stanza.Element {
	form := stanza.New(nsData, "x").SetAttr("type", "form").Append(
		field("FORM_TYPE", NSSummary),
		field("message-count", strconv.Itoa(count)),
		field("last-message-sender", sender.String()),
	)
	item := stanza.New(nsPubSub, "item").Append(stanza.New(NS, "notification").Append(form))
	ps := stanza.New(nsPubSub, "pubsub").Append(stanza.New(nsPubSub, "publish").SetAttr("node", r.node).Append(item))
	if r.options != nil {
		ps.Append(stanza.New(nsPubSub, "publish-options").Append(r.options))
	}
	return stanza.New(stanza.NSClient, stanza.KindIQ).SetAttr("type", stanza.Set).SetAttr("id", stream.NewID()).
		SetAttr("from", user.String()).SetAttr("to", r.service.String()).Append(ps)
}

func field(v, value string) *stanza.Element {
	return stanza.New(nsData, "field").SetAttr("var", v).Append(stanza.New(nsData, "value").AppendText(value))
}

var _ module.Registrar = (*Module)(nil)
