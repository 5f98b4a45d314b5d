package adhoc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// The message-of-the-day command nodes (XEP-0133 §4.24-§4.26).
const (
	NodeSetMOTD    = NSAdmin + "#set-motd"
	NodeEditMOTD   = NSAdmin + "#edit-motd"
	NodeDeleteMOTD = NSAdmin + "#delete-motd"
)

// MOTDStore keeps each served domain's message of the day in the
// adhoc_motd table.
type MOTDStore struct {
	db *storage.DB
	q  struct{ put, get, del string }
}

// NewMOTDStore returns the store over db.
func NewMOTDStore(db *storage.DB) *MOTDStore {
	s := &MOTDStore{db: db}
	s.q.put = db.Upsert("adhoc_motd", []string{"domain"}, []string{"body", "updated_at"})
	s.q.get = db.Rebind("SELECT body FROM adhoc_motd WHERE domain = ?")
	s.q.del = db.Rebind("DELETE FROM adhoc_motd WHERE domain = ?")
	return s
}

// Set stores the message of the day of domain.
func (s *MOTDStore) Set(ctx context.Context, domain, body string) error {
	if _, err := s.db.SQL().ExecContext(ctx, s.q.put, domain, body, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("adhoc: set the message of the day of %s: %w", domain, err)
	}
	return nil
}

// Get returns the message of the day of domain, "" when there is none.
func (s *MOTDStore) Get(ctx context.Context, domain string) (string, error) {
	var body string
	err := s.db.SQL().QueryRowContext(ctx, s.q.get, domain).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("adhoc: read the message of the day of %s: %w", domain, err)
	}
	return body, nil
}

// Delete removes the message of the day of domain.
func (s *MOTDStore) Delete(ctx context.Context, domain string) error {
	if _, err := s.db.SQL().ExecContext(ctx, s.q.del, domain); err != nil {
		return fmt.Errorf("adhoc: delete the message of the day of %s: %w", domain, err)
	}
	return nil
}

// motd is the message of the day: stored, cached per domain, sent to
// every session at its initial presence.
type motd struct {
	store *MOTDStore
	host  module.Host
	mu    sync.Mutex
	cache map[string]string // domain → body ("" none); filled on first use
}

// addMOTDCommands adds set, edit and delete (only with a database).
func (m *Module) addMOTDCommands() {
	if m.motd == nil {
		return
	}
	form := func(title string, current bool) func(context.Context, jid.JID) *stanza.Element {
		return func(ctx context.Context, from jid.JID) *stanza.Element {
			var lines []string
			if current {
				body, _ := m.motd.get(ctx, from.Domain())
				if body != "" {
					lines = strings.Split(body, "\n")
				}
			}
			return NewForm("form", title, NSAdmin).Field("motd", "text-multi", "Message of the day", true, lines...).X
		}
	}
	for _, c := range []Command{
		{Node: NodeSetMOTD, Name: "Set the message of the day", Form: form("Setting the message of the day", false), Submit: m.setMOTD},
		{Node: NodeEditMOTD, Name: "Edit the message of the day", Form: form("Editing the message of the day", true), Submit: m.setMOTD},
		{Node: NodeDeleteMOTD, Name: "Delete the message of the day", Submit: m.deleteMOTD},
	} {
		c.AdminOnly = true
		m.Add(c)
	}
}

func (d *motd) get(ctx context.Context, domain string) (string, error) {
	d.mu.Lock()
	body, ok := d.cache[domain]
	d.mu.Unlock()
	if ok {
		return body, nil
	}
	body, err := d.store.Get(ctx, domain)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	d.cache[domain] = body
	d.mu.Unlock()
	return body, nil
}

func (d *motd) set(ctx context.Context, domain, body string) error {
	var err error
	if body == "" {
		err = d.store.Delete(ctx, domain)
	} else {
		err = d.store.Set(ctx, domain, body)
	}
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.cache[domain] = body
	d.mu.Unlock()
	return nil
}

func (m *Module) setMOTD(ctx context.Context, from jid.JID, domain string, f map[string][]string) (Result, error) {
	body := strings.TrimSpace(strings.Join(f["motd"], "\n"))
	if body == "" {
		return Result{}, commandError(stanza.NotAcceptable, "", "the message of the day is empty; use delete-motd to remove it")
	}
	if err := m.motd.set(ctx, domain, body); err != nil {
		return Result{}, err
	}
	m.log.Info("message of the day set", "domain", domain, "admin", from.Bare())
	return Result{Note: "The message of the day of " + domain + " was set; users get it when they log in."}, nil
}

func (m *Module) deleteMOTD(ctx context.Context, from jid.JID, domain string, _ map[string][]string) (Result, error) {
	if err := m.motd.set(ctx, domain, ""); err != nil {
		return Result{}, err
	}
	m.log.Info("message of the day deleted", "domain", domain, "admin", from.Bare())
	return Result{Note: "The message of the day of " + domain + " was deleted."}, nil
}

// available sends the message of the day, if any, to a session sending
// its initial presence.
func (d *motd) available(ctx context.Context, ev *module.Event) (bool, error) {
	to := ev.Conn.JID()
	body, err := d.get(ctx, to.Domain())
	if err != nil || body == "" {
		return false, err
	}
	msg := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", to.Domain()).SetAttr("to", to.String()).
		SetAttr("type", "headline").SetAttr("id", newID()).
		Append(stanza.New(stanza.NSClient, "subject").AppendText("Message of the day"),
			stanza.New(stanza.NSClient, "body").AppendText(body))
	d.host.Deliver(ctx, to, msg)
	return false, nil
}
