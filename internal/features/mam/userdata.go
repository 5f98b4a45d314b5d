package mam

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// NSExport is the namespace of the archive in an export. XEP-0227 has no
// element for message archives, so Parley writes its own child of
// <user/>: <archive xmlns='urn:x-parley:archive:0'> with one
// <item id='stanza-id' with='JID' stamp='XEP-0082'> per message, the
// message inside. Other servers skip it (an unknown child); Parley
// imports it with the same ids, so clients' stanza-ids stay valid. The
// preferences go along as XEP-0313's own <prefs/>.
const NSExport = "urn:x-parley:archive:0"

// exportPage is how many messages an export reads at a time.
const exportPage = 1000

// UserData is the archive's section of export and import.
type UserData struct {
	archive *storage.Archive
	prefs   *storage.Records
}

// NewUserData returns the section over db.
func NewUserData(db *storage.DB) *UserData {
	return &UserData{archive: db.Archive(), prefs: db.Records(recordKind)}
}

var _ module.UserData = (*UserData)(nil)

// ExportUser returns user's preferences (if set) and archive (if any).
func (u *UserData) ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error) {
	var out []*stanza.Element
	var dec storage.ElementDecoder
	if rec, found, err := u.prefs.Get(ctx, user, ""); err != nil {
		return nil, fmt.Errorf("mam: export preferences of %s: %w", user, err)
	} else if found {
		if els, err := dec.Decode(rec.Data); err == nil && len(els) == 1 {
			out = append(out, els[0])
		}
	}
	arch := stanza.New(NSExport, "archive")
	q := storage.ArchiveQuery{Max: exportPage}
	for {
		page, err := u.archive.Query(ctx, user, q)
		if err != nil {
			return nil, fmt.Errorf("mam: export archive of %s: %w", user, err)
		}
		for _, m := range page.Messages {
			els, err := dec.Decode(m.Data)
			if err != nil || len(els) != 1 {
				continue
			}
			arch.Append(stanza.New(NSExport, "item").SetAttr("id", m.ID).SetAttr("with", m.With.String()).
				SetAttr("stamp", stamp(m.At)).Append(els[0]))
		}
		if page.Complete || len(page.Messages) == 0 {
			break
		}
		q.After = page.Messages[len(page.Messages)-1].ID
	}
	if len(arch.Children) > 0 {
		out = append(out, arch)
	}
	return out, nil
}

// Accepts takes the archive and the preferences.
func (u *UserData) Accepts(el *stanza.Element) bool {
	return (el.Space == NSExport && el.Local == "archive") || (el.Space == NS && el.Local == "prefs")
}

// PlanImport stores the preferences and adds the messages with their ids
// (an item without a usable id gets one from its stamp).
func (u *UserData) PlanImport(user jid.JID, els []*stanza.Element, note func(string)) func(context.Context) error {
	var msgs []storage.ArchivedMessage
	var prefsEl *stanza.Element
	for _, el := range els {
		if el.Local == "prefs" {
			if _, err := parsePrefs(el); err != nil {
				note(fmt.Sprintf("archive preferences left out: %v", err))
				continue
			}
			prefsEl = el
			continue
		}
		for _, it := range el.ChildElements() {
			if m, ok := importItem(it, note); ok {
				msgs = append(msgs, m)
			}
		}
	}
	if len(msgs) == 0 && prefsEl == nil {
		return nil
	}
	return func(ctx context.Context) error {
		if prefsEl != nil {
			if err := u.prefs.Put(ctx, user, []storage.Record{{Data: storage.EncodeElements(prefsEl)}}, 0); err != nil {
				return err
			}
		}
		_, err := u.archive.Import(ctx, user, msgs)
		return err
	}
}

func importItem(it *stanza.Element, note func(string)) (storage.ArchivedMessage, bool) {
	with, err := jid.Parse(it.Attr("with"))
	msg := it.FirstChild()
	if it.Local != "item" || err != nil || msg == nil || msg.Local != stanza.KindMessage {
		note(fmt.Sprintf("archive item %q left out: it needs a 'with' JID and a message", it.Attr("id")))
		return storage.ArchivedMessage{}, false
	}
	id := it.Attr("id")
	if _, ok := storage.ParseArchiveID(id); !ok {
		at, err := time.Parse(time.RFC3339Nano, it.Attr("stamp"))
		if err != nil {
			note(fmt.Sprintf("archive item %q left out: neither a Parley id nor a stamp", id))
			return storage.ArchivedMessage{}, false
		}
		id = storage.FormatArchiveID(at.UnixMicro())
	}
	return storage.ArchivedMessage{ID: id, With: with, Data: storage.EncodeElements(msg)}, true
}
