package carbons

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// Namespaces used here.
const (
	NS        = "urn:xmpp:carbons:2"
	NSForward = "urn:xmpp:forward:0"
	NSHints   = "urn:xmpp:hints"
	nsMUCUser = "http://jabber.org/protocol/muc#user"
)

// hookPrio runs the carbons hook after hooks that may consume or refuse a
// message (blocking runs at 1000): a copy is made only of what goes on.
const hookPrio = -100

// Config is what the module needs.
type Config struct {
	Host module.Host
	Log  *slog.Logger
}

// Module keeps which sessions enabled carbons and makes the copies.
type Module struct {
	host module.Host
	log  *slog.Logger

	// mu guards byUser: bare JID → its carbons-enabled sessions.
	mu     sync.RWMutex
	byUser map[jid.JID][]module.Conn
	n      atomic.Int64 // enabled sessions, for a lock-free fast path
}

// New returns the carbons module.
func New(c Config) *Module {
	return &Module{host: c.Host, log: c.Log.With("component", "carbons"), byUser: map[jid.JID][]module.Conn{}}
}

// Register declares the feature, the enable/disable handlers and hooks.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.IQ(module.Server|module.Account, stanza.Set, NS, "enable", m.enable)
	reg.IQ(module.Server|module.Account, stanza.Set, NS, "disable", m.disable)
	reg.Bind2Inline(NS, m.bind2)
	reg.Hook(module.InboundMessage, hookPrio, m.inbound)
	reg.Hook(module.SessionClosed, 0, m.closed)
}

var _ module.Registrar = (*Module)(nil)

// session returns the sender's own session for an enable/disable request
// (§4.1, §5.1: not-allowed for anyone else's).
func (m *Module) session(iq stanza.IQ) (module.Conn, error) {
	if !iq.To.IsZero() && !iq.To.IsDomain() && iq.To != iq.From.Bare() {
		return nil, stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "carbons are enabled by each session for itself")
	}
	if !m.host.IsLocal(iq.From.Domain()) || iq.From.IsBare() {
		return nil, stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "only clients of this server may use carbons")
	}
	s := m.host.Session(iq.From)
	if s == nil {
		return nil, stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "no session %s", iq.From)
	}
	return s, nil
}

func (m *Module) enable(_ context.Context, iq stanza.IQ) (*stanza.Element, error) {
	c, err := m.session(iq)
	if err != nil {
		return nil, err
	}
	m.add(c)
	return nil, nil
}

// add enables carbons for c (idempotent: enabling twice is fine, §10.1).
func (m *Module) add(c module.Conn) {
	user := c.JID().Bare()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Contains(m.byUser[user], c) {
		m.byUser[user] = append(m.byUser[user], c)
		m.n.Add(1)
	}
}

// bind2 enables carbons for c inline in its XEP-0386 Bind 2 request
// (<enable xmlns='urn:xmpp:carbons:2'/>, XEP-0280 §"Bind 2").
func (m *Module) bind2(_ context.Context, c module.Conn, el *stanza.Element) (*stanza.Element, error) {
	if el.Local != "enable" {
		return nil, fmt.Errorf("carbons: unknown Bind 2 request <%s/>", el.Local)
	}
	m.add(c)
	return nil, nil
}

func (m *Module) disable(_ context.Context, iq stanza.IQ) (*stanza.Element, error) {
	c, err := m.session(iq)
	if err != nil {
		return nil, err
	}
	m.forget(c)
	return nil, nil
}

func (m *Module) closed(_ context.Context, ev *module.Event) (bool, error) {
	if ev.Conn != nil {
		m.forget(ev.Conn)
	}
	return false, nil
}

// forget disables carbons for c (idempotent).
func (m *Module) forget(c module.Conn) {
	user := c.JID().Bare()
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.byUser[user]
	i := slices.Index(list, c)
	if i < 0 {
		return
	}
	m.n.Add(-1)
	if len(list) == 1 {
		delete(m.byUser, user)
		return
	}
	m.byUser[user] = slices.Delete(slices.Clone(list), i, i+1)
}

// enabled returns the carbons-enabled sessions of user. The slice must
// not be modified (forget replaces, never edits, a stored slice).
func (m *Module) enabled(user jid.JID) []module.Conn {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.byUser[user]
}
