package vcard

import (
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/userdata"
)

// NewUserData returns the vCard's section of XEP-0227 import and export
// over db (§4.6): the stored <vCard xmlns='vcard-temp'/> as it is.
func NewUserData(db *storage.DB) *userdata.Records {
	return &userdata.Records{Feature: "vcard", Store: db.Records(kind),
		Accept: []userdata.Name{{Space: NS, Local: "vCard"}}, Export: exportVCard, Import: importVCard}
}

// exportVCard returns user's vCard, if it can be read (the module stores
// one record).
func exportVCard(_ jid.JID, recs []storage.Record) []*stanza.Element {
	var dec storage.ElementDecoder
	if els, err := dec.Decode(recs[0].Data); err == nil && len(els) == 1 {
		return els
	}
	return nil
}

// importVCard returns the last vCard of els.
func importVCard(_ jid.JID, els []*stanza.Element, note func(string)) []storage.Record {
	if len(els) == 0 {
		return nil
	}
	if len(els) > 1 {
		note(fmt.Sprintf("%d vCards: the last one is imported", len(els)))
	}
	return []storage.Record{{Data: storage.EncodeElements(els[len(els)-1])}}
}
