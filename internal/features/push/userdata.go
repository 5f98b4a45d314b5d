package push

import (
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/userdata"
)

// NewUserData returns push's section of XEP-0227 import and export over
// db: the user's registrations, each as the <enable
// xmlns='urn:xmpp:push:0'/> the client sent (jid, node and the
// publish-options form). XEP-0227 has no element for them; this one is
// Parley's.
func NewUserData(db *storage.DB) *userdata.Records {
	return &userdata.Records{Feature: "push", Store: db.Records(kind), Limit: MaxRegistrations,
		Accept: []userdata.Name{{Space: NS, Local: "enable"}}, Export: exportRegistrations, Import: importRegistrations}
}

// exportRegistrations writes user's registrations.
func exportRegistrations(_ jid.JID, recs []storage.Record) []*stanza.Element {
	var out []*stanza.Element
	for _, r := range recs {
		els, err := storage.DecodeElements(r.Data)
		if err != nil || len(els) != 1 {
			continue // unreadable: registrations skips it too
		}
		out = append(out, els[0])
	}
	return out
}

// importRegistrations returns each registration with a valid jid and a
// node, at most MaxRegistrations.
func importRegistrations(_ jid.JID, els []*stanza.Element, note func(string)) []storage.Record {
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
	return recs
}
