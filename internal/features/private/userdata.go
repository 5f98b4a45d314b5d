package private

import (
	"context"
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// UserData is private XML's section of XEP-0227 import and export (§4.5):
// one <query xmlns='jabber:iq:private'/> holding every stored fragment.
type UserData struct{ recs *storage.Records }

// NewUserData returns the section over db.
func NewUserData(db *storage.DB) *UserData { return &UserData{recs: db.Records(kind)} }

var _ module.UserData = (*UserData)(nil)

// ExportUser returns the query with user's fragments, if any.
func (u *UserData) ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error) {
	recs, err := u.recs.List(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("private: export %s: %w", user, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	var dec storage.ElementDecoder
	q := stanza.New(NS, "query")
	for _, r := range recs {
		if els, err := dec.Decode(r.Data); err == nil {
			q.Append(els...)
		}
	}
	return []*stanza.Element{q}, nil
}

// Accepts takes <query xmlns='jabber:iq:private'/>.
func (u *UserData) Accepts(el *stanza.Element) bool { return el.Space == NS && el.Local == "query" }

// PlanImport stores the fragments of the queries, grouped by element name
// as the module stores them; fragments in reserved namespaces (XEP-0049
// §2.3) are left out.
func (u *UserData) PlanImport(user jid.JID, els []*stanza.Element, note func(string)) func(context.Context) error {
	var keep []*stanza.Element
	for _, q := range els {
		for _, c := range q.ChildElements() {
			if reserved(c.Space) {
				note(fmt.Sprintf("private XML <%s xmlns='%s'> left out: reserved namespace", c.Local, c.Space))
				continue
			}
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	recs := records(keep)
	return func(ctx context.Context) error { return u.recs.Put(ctx, user, recs, 0) }
}
