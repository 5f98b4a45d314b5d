package private

import (
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/userdata"
)

// NewUserData returns private XML's section of XEP-0227 import and
// export over db (§4.5): one <query xmlns='jabber:iq:private'/> holding
// every stored fragment.
func NewUserData(db *storage.DB) *userdata.Records {
	return &userdata.Records{Feature: "private", Store: db.Records(kind),
		Accept: []userdata.Name{{Space: NS, Local: "query"}}, Export: exportQuery, Import: importFragments}
}

// exportQuery writes the query with user's fragments.
func exportQuery(_ jid.JID, recs []storage.Record) []*stanza.Element {
	var dec storage.ElementDecoder
	q := stanza.New(NS, "query")
	for _, r := range recs {
		if els, err := dec.Decode(r.Data); err == nil {
			q.Append(els...)
		}
	}
	return []*stanza.Element{q}
}

// importFragments returns the fragments of the queries, grouped by
// element name as the module stores them; fragments in reserved
// namespaces (XEP-0049 §2.3) are left out.
func importFragments(_ jid.JID, els []*stanza.Element, note func(string)) []storage.Record {
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
	return records(keep)
}
