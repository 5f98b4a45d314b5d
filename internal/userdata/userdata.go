package userdata

import (
	"context"
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Name is the namespace and local name of a child of <user/>.
type Name struct{ Space, Local string }

// Records is a module.UserData over one kind of storage.Records: export
// lists the user's records and hands them to Export; import hands the
// accepted elements to Import and stores what it returns in one Put.
type Records struct {
	// Feature names the feature in errors ("vcard: export …").
	Feature string
	// Store is the feature's record kind.
	Store *storage.Records
	// Accept lists the children of <user/> the section imports.
	Accept []Name
	// Limit is Put's per-user limit (0: none).
	Limit int
	// Export maps user's records (at least one) to the section's
	// elements.
	Export func(user jid.JID, recs []storage.Record) []*stanza.Element
	// Import checks the accepted elements (in document order) and
	// returns the records to store; what it leaves out it tells note.
	Import func(user jid.JID, els []*stanza.Element, note func(string)) []storage.Record
}

var _ module.UserData = (*Records)(nil)

// ExportUser returns the elements of user's records; none when user has
// no record of this kind.
func (r *Records) ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error) {
	recs, err := r.Store.List(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("%s: export %s: %w", r.Feature, user, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return r.Export(user, recs), nil
}

// Accepts reports whether el is one of the names in Accept.
func (r *Records) Accepts(el *stanza.Element) bool {
	for _, n := range r.Accept {
		if el.Space == n.Space && el.Local == n.Local {
			return true
		}
	}
	return false
}

// PlanImport returns the write of the records Import makes of els; nil
// when there are none.
func (r *Records) PlanImport(user jid.JID, els []*stanza.Element, note func(string)) func(context.Context) error {
	recs := r.Import(user, els, note)
	if len(recs) == 0 {
		return nil
	}
	return func(ctx context.Context) error { return r.Store.Put(ctx, user, recs, r.Limit) }
}
