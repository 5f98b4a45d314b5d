package csi

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// NS is the XEP-0352 namespace.
const NS = "urn:xmpp:csi:0"

// Bounds on what one inactive session holds.
const (
	MaxHeld      = 256       // stanzas
	MaxHeldBytes = 128 << 10 // estimated serialised bytes
)

// filterPrio runs the hold after every other Filter hook: a stanza another
// filter drops is never held, and a held one never skips a filter.
const filterPrio = -1000

// Config is what the module needs.
type Config struct {
	Log *slog.Logger
}

// Module tracks inactive sessions and what each holds.
type Module struct {
	log *slog.Logger

	// mu guards inactive: the sessions that said <inactive/>.
	mu       sync.Mutex
	inactive map[module.Conn]*held
	n        atomic.Int64 // len(inactive), for a lock-free fast path
}

// New returns the CSI module.
func New(c Config) *Module {
	return &Module{log: c.Log.With("component", "csi"), inactive: map[module.Conn]*held{}}
}

// Register declares the stream feature, the nonzas and the hooks.
func (m *Module) Register(reg *module.Registry) {
	reg.StreamFeature(func(jid.JID) *stanza.Element { return stanza.New(NS, "csi") })
	reg.Nonza(NS, "inactive", m.setInactive)
	reg.Nonza(NS, "active", m.setActive)
	reg.Bind2Inline(NS, m.bind2)
	reg.Hook(module.Filter, filterPrio, m.filter)
	reg.Hook(module.SessionClosed, 0, m.closed)
}

var _ module.Registrar = (*Module)(nil)

func (m *Module) setInactive(_ context.Context, c module.Conn, _ *stanza.Element) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inactive[c] == nil {
		m.inactive[c] = newHeld(c)
		m.n.Add(1)
	}
	return nil
}

// bind2 takes <inactive/> (or <active/>, the default) inline in an
// XEP-0386 Bind 2 request: the session starts inactive.
func (m *Module) bind2(ctx context.Context, c module.Conn, el *stanza.Element) (*stanza.Element, error) {
	switch el.Local {
	case "inactive":
		return nil, m.setInactive(ctx, c, el)
	case "active":
		return nil, nil
	}
	return nil, fmt.Errorf("csi: unknown Bind 2 request <%s/>", el.Local)
}

// setActive flushes what c held and forgets it: active is the default.
func (m *Module) setActive(_ context.Context, c module.Conn, _ *stanza.Element) error {
	if h := m.take(c); h != nil {
		h.end(true)
	}
	return nil
}

func (m *Module) closed(_ context.Context, ev *module.Event) (bool, error) {
	if h := m.take(ev.Conn); h != nil {
		if n := h.end(false); n > 0 {
			m.log.Debug("dropped held stanzas of a closed session", "jid", ev.Conn.JID(), "count", n)
		}
	}
	return false, nil
}

// take removes and returns c's state, or nil when c is active.
func (m *Module) take(c module.Conn) *held {
	if c == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.inactive[c]
	if h != nil {
		delete(m.inactive, c)
		m.n.Add(-1)
	}
	return h
}

func (m *Module) lookup(c module.Conn) *held {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inactive[c]
}

// filter is the Filter hook: for an inactive recipient it holds what can
// wait and flushes before what cannot.
func (m *Module) filter(_ context.Context, ev *module.Event) (bool, error) {
	if m.n.Load() == 0 || ev.Conn == nil {
		return false, nil
	}
	h := m.lookup(ev.Conn)
	if h == nil {
		return false, nil
	}
	if h.offer(ev.Stanza) {
		ev.Deferred = true
		return true, nil
	}
	return false, nil
}
