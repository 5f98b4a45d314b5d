package mam

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// inbound is the InboundMessage hook: it archives an archivable message
// for each local party whose preferences allow it, waits for the commit,
// and stamps the recipient's copy with its stanza-id. It never handles
// the message: delivery goes on.
func (m *Module) inbound(ctx context.Context, ev *module.Event) (bool, error) {
	el := ev.Stanza
	from, to := ev.From, ev.To
	toLocal := m.localAccount(ctx, to)
	if toLocal {
		stripForged(el, to.Bare())
	}
	if !Archivable(el) {
		return false, nil
	}
	m.markPrivate(el, to)
	var entries []storage.ArchiveEntry
	data := storage.EncodeElements(el)
	recipient := -1
	if m.localAccount(ctx, from) {
		if m.wants(ctx, from.Bare(), to) {
			if toLocal && to.Bare() == from.Bare() {
				recipient = 0 // a message to oneself: one archive, one stanza-id
			}
			entries = append(entries, storage.ArchiveEntry{Owner: from.Bare(), With: to, Data: data})
		}
	}
	if toLocal && to.Bare() != from.Bare() {
		if m.wants(ctx, to.Bare(), from) {
			recipient = len(entries)
			entries = append(entries, storage.ArchiveEntry{Owner: to.Bare(), With: from, Data: data})
		}
	}
	if len(entries) == 0 {
		return false, nil
	}
	// Not cancelled with the sender's session: a sender that leaves
	// while its message is being committed must not leave the outcome
	// unknown (archived but neither delivered nor bounced).
	actx := context.WithoutCancel(ctx)
	if module.PipelineFrom(ctx) == nil {
		ids, err := m.archive.Append(actx, entries...)
		return false, m.archived(el, from, to, recipient, ids, err)
	}
	// The sender's session goes on reading while the commit runs; the
	// router delivers the message once Wait returned nil.
	p, err := m.archive.Submit(actx, entries...)
	if err != nil {
		return false, m.archived(el, from, to, recipient, nil, err)
	}
	ev.Wait = func() error {
		ids, err := p.Wait(actx)
		return m.archived(el, from, to, recipient, ids, err)
	}
	return false, nil
}

// archived applies the outcome of archiving el: on success the
// recipient's copy is stamped with its stanza-id (recipient is the index
// of its entry, -1 for none) and el is delivered; a failed commit bounces
// it; an unavailable database delivers it unarchived.
func (m *Module) archived(el *stanza.Element, from, to jid.JID, recipient int, ids []string, err error) error {
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		// The database is down for longer than storage.retry_timeout:
		// chat goes on as it does without an archive (delivered, not
		// archived) rather than stopping for the outage.
		m.log.Warn("archive unavailable; the message is delivered without being archived", "from", from, "to", to, "err", err)
		return nil
	case err != nil:
		m.log.Error("archiving failed; the message is bounced", "from", from, "to", to, "err", err)
		return stanza.Errorf(stanza.Wait, stanza.InternalServerError, "the message could not be archived")
	}
	if recipient >= 0 {
		el.Append(stanza.New(NSSID, "stanza-id").SetAttr("by", to.Bare().String()).SetAttr("id", ids[recipient]))
	}
	return nil
}

// localAccount reports whether j is (a resource of) an account here.
func (m *Module) localAccount(ctx context.Context, j jid.JID) bool {
	if j.Local() == "" || !m.cfg.Host.IsLocal(j.Domain()) {
		return false
	}
	ok, err := m.cfg.Host.AccountExists(ctx, j.Bare())
	return err == nil && ok
}

// wants applies owner's preferences to a message exchanged with contact.
// When they cannot be read (the database is down), the message is not
// archived for owner (a "never" must not be overridden) and is delivered.
func (m *Module) wants(ctx context.Context, owner, contact jid.JID) bool {
	ok, err := m.prefer(ctx, owner, contact)
	if err != nil {
		m.log.Warn("archive preferences unreadable; the message is not archived for this user", "owner", owner, "err", err)
		return false
	}
	return ok
}

// prefer applies XEP-0313 §6: the never list, then the always list, then
// the default.
func (m *Module) prefer(ctx context.Context, owner, contact jid.JID) (bool, error) {
	p, err := m.prefs.get(ctx, owner)
	if err != nil {
		return false, fmt.Errorf("mam: preferences of %s: %w", owner, err)
	}
	switch {
	case p.matches(p.Never, contact):
		return false, nil
	case p.matches(p.Always, contact):
		return true, nil
	}
	switch p.Default {
	case prefAlways:
		return true, nil
	case prefRoster:
		if m.cfg.InRoster == nil {
			return false, nil
		}
		in, err := m.cfg.InRoster(ctx, owner, contact.Bare())
		if err != nil {
			return false, fmt.Errorf("mam: roster of %s: %w", owner, err)
		}
		return in, nil
	}
	return false, nil
}

// stripForged removes stanza-ids that claim to be by owner: only this
// server assigns those (XEP-0359 §3.1).
func stripForged(el *stanza.Element, owner jid.JID) {
	by := owner.String()
	el.RemoveChildren(func(c *stanza.Element) bool {
		return c.Space == NSSID && c.Local == "stanza-id" && sameJID(c.Attr("by"), by)
	})
}

func sameJID(s, bare string) bool {
	if s == bare {
		return true
	}
	j, err := jid.Parse(s)
	return err == nil && j.String() == bare
}

// Archivable applies XEP-0313 §5.1.1 and the XEP-0334 hints: a chat or
// normal message with a body, a <store/> hint or a chat marker, and no
// <no-store/> or <no-permanent-store/> hint.
func Archivable(el *stanza.Element) bool {
	switch el.Attr("type") {
	case "", stanza.MsgNormal, stanza.MsgChat:
	default:
		return false
	}
	worth := false
	for _, n := range el.Children {
		c := n.El
		if c == nil {
			continue
		}
		switch {
		case c.Space == NSHints && (c.Local == "no-store" || c.Local == "no-permanent-store"):
			return false
		case c.Space == NSHints && c.Local == "store":
			worth = true
		case c.Local == "body" && (c.Space == stanza.NSClient || c.Space == stanza.NSServer):
			worth = true
		case c.Space == NSMarkers && c.Local != "markable":
			worth = true
		}
	}
	return worth
}
