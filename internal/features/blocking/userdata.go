package blocking

import (
	"fmt"
	"slices"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/userdata"
)

// nsPrivacy is XEP-0016's namespace: ejabberd exports XEP-0191 block
// lists as the default privacy list.
const nsPrivacy = "jabber:iq:privacy"

// NewUserData returns the block list's section of XEP-0227 import and
// export over db (an extension the XEP allows): <blocklist
// xmlns='urn:xmpp:blocking'/> as a blocklist get answers it. Import also
// reads the default privacy list's "deny everything from this JID" items,
// which is how servers that store blocking on privacy lists export it.
func NewUserData(db *storage.DB) *userdata.Records {
	return &userdata.Records{Feature: "blocking", Store: db.Records(kind),
		Accept: []userdata.Name{{Space: NS, Local: "blocklist"}, {Space: nsPrivacy, Local: "query"}},
		Export: exportBlocklist, Import: importBlocked}
}

// exportBlocklist writes user's block list.
func exportBlocklist(_ jid.JID, recs []storage.Record) []*stanza.Element {
	bl := stanza.New(NS, "blocklist")
	for _, r := range recs {
		bl.Append(stanza.New(NS, "item").SetAttr("jid", r.Name))
	}
	return []*stanza.Element{bl}
}

// importBlocked returns the blocked JIDs of els, each once.
func importBlocked(_ jid.JID, els []*stanza.Element, note func(string)) []storage.Record {
	var recs []storage.Record
	for _, el := range els {
		items := el.ChildElements()
		if el.Space == nsPrivacy {
			items = privacyBlocked(el, note)
		}
		for _, it := range items {
			if it.Local != "item" {
				continue
			}
			j, err := jid.Parse(it.Attr("jid"))
			if err != nil {
				note(fmt.Sprintf("blocked JID %q left out: not a valid JID", it.Attr("jid")))
				continue
			}
			if !slices.ContainsFunc(recs, func(r storage.Record) bool { return r.Name == j.String() }) {
				recs = append(recs, storage.Record{Name: j.String()})
			}
		}
	}
	return recs
}

// privacyBlocked maps the default privacy list's "deny everything from
// this JID" items to block list items; other privacy rules have no
// equivalent here.
func privacyBlocked(q *stanza.Element, note func(string)) []*stanza.Element {
	def := ""
	if d := q.Child(nsPrivacy, "default"); d != nil {
		def = d.Attr("name")
	}
	var block []*stanza.Element
	for _, list := range q.ChildElements() {
		if list.Local != "list" {
			continue
		}
		if list.Attr("name") != def {
			note(fmt.Sprintf("privacy list %q left out: only the default list's blocked JIDs are imported", list.Attr("name")))
			continue
		}
		for _, it := range list.ChildElements() {
			if it.Attr("type") == "jid" && it.Attr("action") == "deny" && len(it.ChildElements()) == 0 {
				block = append(block, stanza.New(NS, "item").SetAttr("jid", it.Attr("value")))
			} else {
				note(fmt.Sprintf("privacy rule (type %q, action %q) left out: only blocked JIDs are imported", it.Attr("type"), it.Attr("action")))
			}
		}
	}
	return block
}
