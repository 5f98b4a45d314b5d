package lastactivity

import (
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/userdata"
)

// NSPortable is Parley's XEP-0227 extension element for last activity:
// <last xmlns='urn:xmpp:parley:pie:last:0' stamp='RFC 3339'>status</last>.
const NSPortable = "urn:xmpp:parley:pie:last:0"

// NewUserData returns last activity's section of XEP-0227 import and
// export over db: the time and status of the user's last logout, as
// <last/>.
func NewUserData(db *storage.DB) *userdata.Records {
	return &userdata.Records{Feature: "lastactivity", Store: db.Records(kind),
		Accept: []userdata.Name{{Space: NSPortable, Local: "last"}}, Export: exportLast, Import: importLast}
}

// exportLast writes user's <last/> (the module stores one record).
func exportLast(_ jid.JID, recs []storage.Record) []*stanza.Element {
	rec := recs[0]
	el := stanza.New(NSPortable, "last").SetAttr("stamp", rec.Updated.UTC().Format(time.RFC3339Nano)).AppendText(string(rec.Data))
	return []*stanza.Element{el}
}

// importLast returns the last valid <last/> of els.
func importLast(_ jid.JID, els []*stanza.Element, note func(string)) []storage.Record {
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
	return []storage.Record{*rec}
}
