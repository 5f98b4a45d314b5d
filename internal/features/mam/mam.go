package mam

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Namespaces used here.
const (
	NS         = "urn:xmpp:mam:2"
	NSExtended = "urn:xmpp:mam:2#extended"
	NSSID      = "urn:xmpp:sid:0"
	NSRSM      = "http://jabber.org/protocol/rsm"
	NSForward  = "urn:xmpp:forward:0"
	NSDelay    = "urn:xmpp:delay"
	NSData     = "jabber:x:data"
	NSHints    = "urn:xmpp:hints"
	NSMarkers  = "urn:xmpp:chat-markers:0"
)

// hookPrio runs the archive after hooks that refuse a message (blocking,
// 1000) and before carbons (-100), whose copies then carry the stanza-id.
const hookPrio = 0

// Config is what the module needs.
type Config struct {
	DB   *storage.DB
	Host module.Host
	Log  *slog.Logger
	MAM  config.MAM
	// InRoster reports whether contact is in owner's roster, for the
	// "roster" preference; nil means nobody is.
	InRoster func(ctx context.Context, owner, contact jid.JID) (bool, error)
	// MaxPageBytes bounds the stored bytes of one page of results, well
	// below a session's output limit (limits.max_outbound_bytes), so that
	// a page of big messages is shortened (RSM allows fewer than max)
	// instead of closing the session as a slow consumer; 0 means 1 MiB.
	MaxPageBytes int
	// Groupchat reports whether domain is a group chat service's: a
	// message a user sends to a JID with a resource on it is a private
	// message through a room, and is marked so (markPrivate). nil: none.
	Groupchat func(domain string) bool
}

// Module archives messages and answers archive queries.
type Module struct {
	cfg     Config
	log     *slog.Logger
	archive *storage.Archive
	prefs   *prefStore

	// mu guards synced: the sessions that queried the archive before
	// their initial presence (see Synced).
	mu     sync.Mutex
	synced map[module.Conn]bool
}

// New returns the module.
func New(cfg Config) *Module {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Module{
		cfg:     cfg,
		log:     cfg.Log.With("module", "mam"),
		archive: cfg.DB.Archive(),
		prefs:   newPrefStore(cfg.DB, cfg.MAM.Default),
		synced:  map[module.Conn]bool{},
	}
}

// Register declares the features, the iq handlers and the hooks.
func (m *Module) Register(reg *module.Registry) {
	reg.AccountFeature(NS, NSExtended)
	reg.Feature(NSSID)
	reg.IQ(module.Account, stanza.Get, NS, "query", m.form)
	reg.IQ(module.Account, stanza.Set, NS, "query", m.query)
	reg.IQ(module.Account, stanza.Get, NS, "metadata", m.metadata)
	reg.IQ(module.Account, stanza.Get, NS, "prefs", m.getPrefs)
	reg.IQ(module.Account, stanza.Set, NS, "prefs", m.setPrefs)
	reg.Hook(module.InboundMessage, hookPrio, m.inbound)
	reg.Hook(module.SessionClosed, 0, m.closed)
}

var _ module.Registrar = (*Module)(nil)

// Synced reports whether session s queried the archive before its
// initial presence: offline storage then drops the queued messages the
// archive has instead of delivering them (see the package doc).
func (m *Module) Synced(s module.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.synced[s]
}

func (m *Module) markSynced(s module.Session) {
	if avail, _ := s.Presence(); avail {
		return
	}
	m.mu.Lock()
	m.synced[s] = true
	m.mu.Unlock()
}

func (m *Module) closed(_ context.Context, ev *module.Event) (bool, error) {
	if ev.Conn != nil {
		m.mu.Lock()
		delete(m.synced, ev.Conn)
		m.mu.Unlock()
	}
	return false, nil
}

// Expire removes archived messages older than the retention.
func (m *Module) Expire(ctx context.Context, now time.Time) (int, error) {
	keep := m.cfg.MAM.Retention.D()
	if keep <= 0 {
		return 0, nil
	}
	return m.archive.Expire(ctx, now.Add(-keep))
}

// RunRetention runs Expire every mam.retention_interval until ctx ends
// (nothing to do when mam.retention is 0).
func (m *Module) RunRetention(ctx context.Context) {
	if m.cfg.MAM.Retention.D() <= 0 {
		return
	}
	t := time.NewTicker(m.cfg.MAM.RetentionInterval.D())
	defer t.Stop()
	for {
		if n, err := m.Expire(ctx, time.Now()); err != nil {
			m.log.Warn("archive retention failed", "err", err)
		} else if n > 0 {
			m.log.Info("archive retention removed messages", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
