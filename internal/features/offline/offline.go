package offline

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Namespaces and names this package reads or writes.
const (
	Feature      = "msgoffline" // XEP-0160 §4 disco feature
	NSDelay      = "urn:xmpp:delay"
	NSHints      = "urn:xmpp:hints"
	NSChatStates = "http://jabber.org/protocol/chatstates"
	NSStanzaID   = "urn:xmpp:sid:0"
)

// kind names the offline queue in storage.
const kind = "offline"

// batch is how many stored messages are read at a time while delivering.
const batch = 200

// Config is what the module needs.
type Config struct {
	DB   *storage.DB
	Host module.Host
	Log  *slog.Logger
	// MaxPerUser is the per-user quota (config offline.max_messages_per_user).
	MaxPerUser int
	// MaxBurstBytes bounds the bytes delivered at one login, so that a
	// big backlog cannot overflow the session's output queue (the rest
	// waits for the next login); 0 means no bound.
	MaxBurstBytes int
	// Blocked reports whether owner blocked sender (XEP-0191): such
	// messages are refused when stored and dropped when delivered. nil
	// means nobody is blocked.
	Blocked func(ctx context.Context, owner, sender jid.JID) (bool, error)
	// Synced reports whether a session syncs with the message archive
	// (XEP-0313; package mam says when): it is not sent the stored
	// messages the archive has (those with the server's stanza-id by the
	// user), which are dropped, only the others. nil means no session
	// does.
	Synced func(s module.Conn) bool
}

// Module stores and delivers offline messages.
type Module struct {
	cfg   Config
	log   *slog.Logger
	queue *storage.Queue
	seed  maphash.Seed
	// locks serialise storing and delivering for one user (striped by
	// user), so a message stored while the user comes online is not left
	// behind.
	locks [64]sync.Mutex
}

// New returns the module.
func New(cfg Config) *Module {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Module{
		cfg:   cfg,
		log:   cfg.Log.With("module", "offline"),
		queue: cfg.DB.Queue(kind),
		seed:  maphash.MakeSeed(),
	}
}

// Register declares the disco feature and the Offline and Available hooks.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(Feature)
	reg.Hook(module.Offline, 0, m.store)
	reg.Hook(module.Available, 0, m.available)
}

func (m *Module) lock(user jid.JID) *sync.Mutex {
	h := maphash.String(m.seed, user.String())
	return &m.locks[h%uint64(len(m.locks))]
}

// errFull is the bounce for a full queue (RFC 6121 §8.5.2.1.1, XEP-0160 §2).
func errFull() error {
	return stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "the recipient's offline storage is full")
}

// store is the Offline hook: it stores ev.Stanza for ev.To, or leaves it
// unhandled (the router then bounces service-unavailable).
func (m *Module) store(ctx context.Context, ev *module.Event) (bool, error) {
	if !Storable(ev.Stanza) {
		return false, nil
	}
	owner := ev.To.Bare()
	if blocked, err := m.blocked(ctx, owner, ev.From); err != nil || blocked {
		if err != nil {
			return false, err
		}
		return false, stanza.NewError(stanza.ServiceUnavailable) // XEP-0191 §3.3
	}
	mu := m.lock(owner)
	mu.Lock()
	err := m.queue.Push(ctx, owner, storage.EncodeElements(ev.Stanza), time.Now(), m.cfg.MaxPerUser)
	mu.Unlock()
	switch {
	case errors.Is(err, storage.ErrLimit):
		m.log.Info("offline storage full", "jid", owner)
		return false, errFull()
	case err != nil:
		return false, fmt.Errorf("offline: store for %s: %w", owner, err)
	}
	m.catchUp(ctx, owner)
	return true, nil
}

// catchUp delivers right away if the user became available while the
// message was being stored (its Available flush may have run before the
// write).
func (m *Module) catchUp(ctx context.Context, owner jid.JID) {
	if s := m.bestSession(owner); s != nil {
		if err := m.Flush(ctx, s); err != nil {
			m.log.Warn("offline delivery failed", "jid", s.JID(), "err", err)
		}
	}
}

// bestSession returns an available session of owner with the highest
// non-negative priority, or nil.
func (m *Module) bestSession(owner jid.JID) module.Session {
	var best module.Session
	bestPrio := -1
	for _, s := range m.cfg.Host.Sessions(owner) {
		if avail, prio := s.Presence(); avail && prio > bestPrio {
			best, bestPrio = s, prio
		}
	}
	return best
}

// available is the Available hook: the session that just sent initial
// presence gets the queue if its priority is non-negative (XEP-0160 §2).
func (m *Module) available(ctx context.Context, ev *module.Event) (bool, error) {
	s := m.cfg.Host.Session(ev.Session)
	if s == nil {
		return false, nil
	}
	if avail, prio := s.Presence(); !avail || prio < 0 {
		return false, nil
	}
	return false, m.Flush(ctx, s)
}

func (m *Module) blocked(ctx context.Context, owner, sender jid.JID) (bool, error) {
	if m.cfg.Blocked == nil || sender.IsZero() {
		return false, nil
	}
	b, err := m.cfg.Blocked(ctx, owner, sender)
	if err != nil {
		return false, fmt.Errorf("offline: blocking check for %s: %w", owner, err)
	}
	return b, nil
}
