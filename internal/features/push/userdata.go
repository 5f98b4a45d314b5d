package push

import (
	"context"
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// UserData is push's section of XEP-0227 import and export: the user's
// registrations, each as the <enable xmlns='urn:xmpp:push:0'/> the client
// sent (jid, node and the publish-options form). XEP-0227 has no element
// for them; this one is Parley's.
type UserData struct{ recs *storage.Records }

// NewUserData returns the section over db.
func NewUserData(db *storage.DB) *UserData { return &UserData{recs: db.Records(kind)} }

var _ module.UserData = (*UserData)(nil)

// ExportUser returns user's registrations.
func (u *UserData) ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error) {
	recs, err := u.recs.List(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("push: export %s: %w", user, err)
	}
	var out []*stanza.Element
	for _, r := range recs {
		els, err := storage.DecodeElements(r.Data)
		if err != nil || len(els) != 1 {
			continue // unreadable: registrations skips it too
		}
		out = append(out, els[0])
	}
	return out, nil
}

// Accepts takes <enable xmlns='urn:xmpp:push:0'/>.
func (u *UserData) Accepts(el *stanza.Element) bool { return el.Space == NS && el.Local == "enable" }

// PlanImport stores each registration with a valid jid and a node, at
// most MaxRegistrations.
func (u *UserData) PlanImport(user jid.JID, els []*stanza.Element, note func(string)) func(context.Context) error {
	var recs []storage.Record
	for _, el := range els {
		service, err := jid.Parse(el.Attr("jid"))
		node := el.Attr("node")
		switch {
		case err != nil || service.IsZero() || node == "":
			note(fmt.Sprintf("push registration left out: needs a valid jid and a node (jid %q, node %q)", el.Attr("jid"), node))
			continue
		case len(recs) == MaxRegistrations:
			note(fmt.Sprintf("push registration %s %s left out: at most %d per account", service, node, MaxRegistrations))
			continue
		}
		reg := stanza.New(NS, "enable").SetAttr("jid", service.String()).SetAttr("node", node)
		if form := el.Child(nsData, "x"); form != nil {
			reg.Append(form)
		}
		recs = append(recs, storage.Record{Name: name(service, node), Data: []byte(reg.String())})
	}
	if len(recs) == 0 {
		return nil
	}
	return func(ctx context.Context) error { return u.recs.Put(ctx, user, recs, MaxRegistrations) }
}
