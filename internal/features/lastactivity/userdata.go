package lastactivity

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// NSPortable is Parley's XEP-0227 extension element for last activity:
// <last xmlns='urn:xmpp:parley:pie:last:0' stamp='RFC 3339'>status</last>.
const NSPortable = "urn:xmpp:parley:pie:last:0"

// UserData is last activity's section of XEP-0227 import and export: the
// time and status of the user's last logout.
type UserData struct{ recs *storage.Records }

// NewUserData returns the section over db.
func NewUserData(db *storage.DB) *UserData { return &UserData{recs: db.Records(kind)} }

var _ module.UserData = (*UserData)(nil)

// ExportUser returns user's <last/>, if a logout was recorded.
func (u *UserData) ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error) {
	rec, found, err := u.recs.Get(ctx, user, "")
	if err != nil {
		return nil, fmt.Errorf("lastactivity: export %s: %w", user, err)
	}
	if !found {
		return nil, nil
	}
	el := stanza.New(NSPortable, "last").SetAttr("stamp", rec.Updated.UTC().Format(time.RFC3339Nano)).AppendText(string(rec.Data))
	return []*stanza.Element{el}, nil
}

// Accepts takes <last xmlns='urn:xmpp:parley:pie:last:0'/>.
func (u *UserData) Accepts(el *stanza.Element) bool {
	return el.Space == NSPortable && el.Local == "last"
}

// PlanImport stores the last valid <last/> of els.
func (u *UserData) PlanImport(user jid.JID, els []*stanza.Element, note func(string)) func(context.Context) error {
	var rec *storage.Record
	for _, el := range els {
		t, err := time.Parse(time.RFC3339Nano, el.Attr("stamp"))
		if err != nil {
			note(fmt.Sprintf("last activity left out: bad stamp %q", el.Attr("stamp")))
			continue
		}
		rec = &storage.Record{Data: []byte(el.Text()), Updated: t}
	}
	if rec == nil {
		return nil
	}
	return func(ctx context.Context) error { return u.recs.Put(ctx, user, []storage.Record{*rec}, 0) }
}
