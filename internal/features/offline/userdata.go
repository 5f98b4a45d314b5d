package offline

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// nsLegacyDelay is XEP-0091's delay namespace, which older exports use.
const nsLegacyDelay = "jabber:x:delay"

// UserData is offline messages' section of XEP-0227 import and export
// (§4.4): <offline-messages/> in the XEP's namespace, each message with
// the XEP-0203 delay of when it was stored.
type UserData struct{ queue *storage.Queue }

// NewUserData returns the section over db.
func NewUserData(db *storage.DB) *UserData { return &UserData{queue: db.Queue(kind)} }

var _ module.UserData = (*UserData)(nil)

// ExportUser returns user's stored messages, if any.
func (u *UserData) ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error) {
	items, err := u.queue.Peek(ctx, user, 0)
	if err != nil {
		return nil, fmt.Errorf("offline: export %s: %w", user, err)
	}
	if len(items) == 0 {
		return nil, nil
	}
	var dec storage.ElementDecoder
	om := stanza.New(module.NSPIE, "offline-messages")
	for _, it := range items {
		els, err := dec.Decode(it.Data)
		if err != nil || len(els) != 1 {
			continue
		}
		m := els[0]
		m.Append(stanza.New(NSDelay, "delay").SetAttr("from", user.Domain()).
			SetAttr("stamp", it.Created.UTC().Format(time.RFC3339Nano)).AppendText("Offline Storage"))
		om.Append(m)
	}
	return []*stanza.Element{om}, nil
}

// Accepts takes <offline-messages/> in either XEP-0227 namespace.
func (u *UserData) Accepts(el *stanza.Element) bool {
	return el.Local == "offline-messages" && (el.Space == module.NSPIE || el.Space == module.NSPIEOld)
}

type stored struct {
	el *stanza.Element
	at time.Time
}

// PlanImport stores the messages, addressed to user, at the time of
// their delay stamp (XEP-0203, or XEP-0091's; now without one).
func (u *UserData) PlanImport(user jid.JID, els []*stanza.Element, note func(string)) func(context.Context) error {
	var msgs []stored
	for _, om := range els {
		for _, m := range om.ChildElements() {
			if s, ok := importMessage(user, m, note); ok {
				msgs = append(msgs, s)
			}
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return func(ctx context.Context) error {
		for _, m := range msgs {
			if err := u.queue.Push(ctx, user, storage.EncodeElements(m.el), m.at, 0); err != nil {
				return err
			}
		}
		return nil
	}
}

func importMessage(user jid.JID, m *stanza.Element, note func(string)) (stored, bool) {
	if m.Local != stanza.KindMessage || (m.Space != stanza.NSClient && m.Space != stanza.NSServer) {
		note(fmt.Sprintf("offline message <%s xmlns='%s'> left out: not a message", m.Local, m.Space))
		return stored{}, false
	}
	if f := m.Attr("from"); f != "" {
		if _, err := jid.Parse(f); err != nil {
			note(fmt.Sprintf("offline message from %q left out: not a valid JID", f))
			return stored{}, false
		}
	}
	msg := m.Copy()
	msg.Space = stanza.NSClient
	at := time.Now()
	msg.RemoveChildren(func(c *stanza.Element) bool {
		if (c.Space == NSDelay || c.Space == nsLegacyDelay) && (c.Local == "delay" || c.Local == "x") {
			if t, ok := delayStamp(c); ok {
				at = t
			}
			return true
		}
		return false
	})
	msg.SetAttr("to", user.String())
	return stored{el: msg, at: at}, true
}

func delayStamp(d *stanza.Element) (time.Time, bool) {
	s := d.Attr("stamp")
	for _, layout := range []string{time.RFC3339Nano, "20060102T15:04:05"} { // XEP-0203, legacy XEP-0091
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
