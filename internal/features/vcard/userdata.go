package vcard

import (
	"context"
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// UserData is the vCard's section of XEP-0227 import and export (§4.6):
// the stored <vCard xmlns='vcard-temp'/> as it is.
type UserData struct{ recs *storage.Records }

// NewUserData returns the section over db.
func NewUserData(db *storage.DB) *UserData { return &UserData{recs: db.Records(kind)} }

var _ module.UserData = (*UserData)(nil)

// ExportUser returns user's vCard, if any.
func (u *UserData) ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error) {
	rec, found, err := u.recs.Get(ctx, user, "")
	if err != nil || !found {
		return nil, wrapExport(user, err)
	}
	var dec storage.ElementDecoder
	if els, err := dec.Decode(rec.Data); err == nil && len(els) == 1 {
		return els, nil
	}
	return nil, nil
}

func wrapExport(user jid.JID, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("vcard: export %s: %w", user, err)
}

// Accepts takes <vCard xmlns='vcard-temp'/>.
func (u *UserData) Accepts(el *stanza.Element) bool { return el.Space == NS && el.Local == "vCard" }

// PlanImport stores the last vCard of els.
func (u *UserData) PlanImport(user jid.JID, els []*stanza.Element, note func(string)) func(context.Context) error {
	if len(els) == 0 {
		return nil
	}
	if len(els) > 1 {
		note(fmt.Sprintf("%d vCards: the last one is imported", len(els)))
	}
	data := storage.EncodeElements(els[len(els)-1])
	return func(ctx context.Context) error {
		return u.recs.Put(ctx, user, []storage.Record{{Data: data}}, 0)
	}
}
