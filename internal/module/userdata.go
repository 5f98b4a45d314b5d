package module

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// Namespaces of XEP-0227 (Portable Import/Export Format), for UserData
// implementations whose elements carry them.
const (
	NSPIE    = "urn:xmpp:pie:0"
	NSPIEOld = "http://www.xmpp.org/extensions/xep-0227.html#ns" // before XEP-0227 1.0; Openfire writes it
)

// UserData is a stored feature's section of a user's data in XEP-0227
// form. Package portable asks each stored feature for its section, so it
// needs to know no feature's record format: it writes and reads the
// document and the account, and each feature the children of <user/> it
// owns. Implementations work on a storage.DB alone (no running server),
// and write only through what ctx carries inside storage.DB.Atomic.
type UserData interface {
	// ExportUser returns this feature's children of user's <user/>
	// element; none when user has no such data.
	ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error)
	// Accepts reports whether el, a child of <user/>, is this feature's
	// to import.
	Accepts(el *stanza.Element) bool
	// PlanImport checks the children Accepts took (in document order) and
	// returns what to store for user: a function run inside the account's
	// transaction, nil when there is nothing to store. What it leaves out
	// it tells note, with the reason. It writes nothing itself.
	PlanImport(user jid.JID, els []*stanza.Element, note func(why string)) (write func(ctx context.Context) error)
}
