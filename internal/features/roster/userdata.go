package roster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// UserData is the roster's section of XEP-0227 import and export (§4.3):
// the roster as a roster get result shows it, and each pending inbound
// subscription request as the <presence type='subscribe'/> it was. Shared
// groups are left out: they are configuration, not the user's roster.
type UserData struct{ store *Store }

// NewUserData returns the section over db.
func NewUserData(db *storage.DB) *UserData { return &UserData{store: NewStore(db)} }

var _ module.UserData = (*UserData)(nil)

// ExportUser returns user's roster query (items sorted by JID, empty when
// there are none) and pending requests.
func (u *UserData) ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error) {
	items, _, err := u.store.Load(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("roster: export %s: %w", user, err)
	}
	list := make([]*Item, 0, len(items))
	for _, it := range items {
		list = append(list, it)
	}
	slices.SortFunc(list, func(a, b *Item) int { return strings.Compare(a.JID.String(), b.JID.String()) })
	q := stanza.New(NS, "query")
	for _, it := range list {
		q.Append(it.Element())
	}
	out := []*stanza.Element{q}
	pending, err := u.store.Pending(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("roster: export pending requests of %s: %w", user, err)
	}
	var dec storage.ElementDecoder
	for _, p := range pending {
		if els, err := dec.Decode(p.Stanza); err == nil && len(els) == 1 {
			out = append(out, els[0])
		}
	}
	return out, nil
}

// Accepts takes the roster query and <presence/> children of <user/>.
func (u *UserData) Accepts(el *stanza.Element) bool {
	switch {
	case el.Space == NS && el.Local == "query":
		return true
	case el.Local == stanza.KindPresence:
		return el.Space == stanza.NSClient || el.Space == module.NSPIE || el.Space == module.NSPIEOld
	}
	return false
}

type request struct {
	from jid.JID
	el   *stanza.Element
}

// PlanImport stores the roster items (each contact once) and the pending
// subscription requests (one per contact) in one roster update.
func (u *UserData) PlanImport(user jid.JID, els []*stanza.Element, note func(string)) func(context.Context) error {
	notef := func(format string, args ...any) { note(fmt.Sprintf(format, args...)) }
	var items []*Item
	var pending []request
	seen := map[jid.JID]bool{}
	for _, el := range els {
		if el.Local == stanza.KindPresence {
			pending = pendingRequest(user, el, pending, notef)
			continue
		}
		for _, it := range el.ChildElements() {
			if item := importItem(it, seen, notef); item != nil {
				items = append(items, item)
			}
		}
	}
	if len(items) == 0 && len(pending) == 0 {
		return nil
	}
	return func(ctx context.Context) error {
		return u.store.Update(ctx, func(tx *Tx) error {
			for _, it := range items {
				if err := tx.PutItem(user, it); err != nil {
					return err
				}
			}
			for _, r := range pending {
				if err := tx.PutPending(user, r.from, storage.EncodeElements(r.el), time.Now()); err != nil {
					return err
				}
			}
			_, err := tx.Bump(user)
			return err
		})
	}
}

// importItem reads one <item/> of an imported roster; nil when it is left
// out (with a note).
func importItem(it *stanza.Element, seen map[jid.JID]bool, notef func(string, ...any)) *Item {
	if it.Space != NS || it.Local != "item" {
		notef("roster: <%s xmlns='%s'> left out", it.Local, it.Space)
		return nil
	}
	raw := it.Attr("jid")
	c, err := jid.Parse(raw)
	if err != nil || !c.IsBare() {
		notef("roster item %q left out: not a valid bare JID", raw)
		return nil
	}
	if seen[c] {
		notef("roster item %s left out: listed twice", c)
		return nil
	}
	sub := it.Attr("subscription")
	if sub == "" {
		sub = "none"
	}
	s, ok := ParseSub(sub)
	if !ok {
		notef("roster item %s left out: subscription %q", c, sub)
		return nil
	}
	var groups []string
	for _, g := range it.ChildElements() {
		if g.Local == "group" {
			if name := g.Text(); name != "" && !slices.Contains(groups, name) {
				groups = append(groups, name)
			}
		}
	}
	slices.Sort(groups)
	seen[c] = true
	return &Item{
		JID: c, Name: it.Attr("name"), Groups: groups,
		State: State{Sub: s, PendingOut: it.Attr("ask") == TypeSubscribe, Approved: it.Attr("approved") == "true"},
	}
}

// pendingRequest adds an inbound subscription request the user has not
// answered (a <presence type='subscribe'/> child of <user/>) to pending.
func pendingRequest(user jid.JID, el *stanza.Element, pending []request, notef func(string, ...any)) []request {
	if el.Attr("type") != TypeSubscribe {
		notef("<presence type='%s'/> left out: only pending subscription requests are imported", el.Attr("type"))
		return pending
	}
	from, err := jid.Parse(el.Attr("from"))
	if err != nil {
		notef("subscription request from %q left out: not a valid JID", el.Attr("from"))
		return pending
	}
	from = from.Bare()
	for _, r := range pending {
		if r.from == from {
			return pending
		}
	}
	req := el.Copy()
	req.Space = stanza.NSClient
	req.SetAttr("from", from.String())
	req.SetAttr("to", user.String())
	return append(pending, request{from: from, el: req})
}
