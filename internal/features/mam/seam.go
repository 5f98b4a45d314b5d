package mam

import (
	"strconv"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// This file is the archive's seam: what other features (group chat's room
// archives, XEP-0313 §5 on the room JID) may use of this package.
// internal/arch fails if another feature names anything of it that is not
// declared here. One parser, one search form and one <fin/> serve every
// archive, so that a user's and a room's answer the same query the same
// way.

// Query is a parsed XEP-0313 query (§4): its queryid, the archive query
// the form and the XEP-0059 set ask for, and flip-page.
type Query struct {
	ID      string
	Archive storage.ArchiveQuery
	Flip    bool
}

// PageLimits are an archive's page sizes: the page when the client names
// none, and the largest it may ask for (a bigger RSM max is capped).
type PageLimits struct {
	Default, Max int
}

// ParseQuery reads a <query/> element in namespace NS: its data form
// (with, start, end and #extended's after-id, before-id, ids), RSM set
// (max, after, before; index is refused) and flip-page. A max of 0 asks
// for the count only (Archive.Max is then 0). Bad input is a
// *stanza.Error for the client.
func ParseQuery(q *stanza.Element, l PageLimits) (Query, error) {
	req := Query{ID: q.Attr("queryid")}
	req.Archive.Count, req.Archive.CountLimit = true, countLimit
	req.Archive.Max = l.Default
	for _, c := range q.ChildElements() {
		var err error
		switch {
		case c.Space == NSData && c.Local == "x":
			err = parseForm(c, &req.Archive)
		case c.Space == NSRSM && c.Local == "set":
			err = parseRSM(c, &req.Archive, l.Max)
		case c.Space == NS && c.Local == "flip-page":
			req.Flip = true
		default:
			err = stanza.Errorf(stanza.Modify, stanza.BadRequest, "unknown element {%s}%s in the query", c.Space, c.Local)
		}
		if err != nil {
			return Query{}, err
		}
	}
	if a := req.Archive; !a.Start.IsZero() && !a.End.IsZero() && a.Start.After(a.End) {
		return Query{}, stanza.Errorf(stanza.Modify, stanza.BadRequest, "start is after end")
	}
	return req, nil
}

// SearchForm is the query form an archive offers (§4.1.5), to answer a
// query get with (inside a <query xmlns=NS/>).
func SearchForm() *stanza.Element {
	return stanza.New(NSData, "x").SetAttr("type", "form").Append(
		field(fieldFormType, "hidden").Append(stanza.New(NSData, "value").AppendText(NS)),
		field(fieldWith, "jid-single"),
		field(fieldStart, "text-single"),
		field(fieldEnd, "text-single"),
		field(fieldAfterID, "text-single"),
		field(fieldBeforeID, "text-single"),
		field(fieldIDs, "list-multi"),
	)
}

// Fin is the iq result payload (§4.3): complete when nothing is left in
// the paging direction, and the RSM set of msgs (the page as sent).
func Fin(page storage.ArchivePage, msgs []storage.ArchivedMessage) *stanza.Element {
	f := stanza.New(NS, "fin")
	if page.Complete {
		f.SetAttr("complete", "true")
	}
	set := stanza.New(NSRSM, "set")
	if len(msgs) > 0 {
		set.Append(stanza.New(NSRSM, "first").AppendText(msgs[0].ID))
		set.Append(stanza.New(NSRSM, "last").AppendText(msgs[len(msgs)-1].ID))
	}
	if page.Count >= 0 {
		set.Append(stanza.New(NSRSM, "count").AppendText(strconv.Itoa(page.Count)))
	}
	return f.Append(set)
}

// CountOnly is the <fin/> of a query with RSM max 0 (XEP-0059 §2.6):
// the count of what the query selects, no messages.
func CountOnly(count int) *stanza.Element {
	return Fin(storage.ArchivePage{Count: count, Complete: count == 0}, nil)
}

// Result wraps one archived message (el, decoded from am) as the result
// message to the querying entity (§4.2): forwarded, with the time it was
// archived.
func Result(from, to, queryID string, am storage.ArchivedMessage, el *stanza.Element) *stanza.Element {
	result := stanza.New(NS, "result").SetAttr("id", am.ID)
	if queryID != "" {
		result.SetAttr("queryid", queryID)
	}
	result.Append(stanza.New(NSForward, "forwarded").Append(
		stanza.New(NSDelay, "delay").SetAttr("stamp", stamp(am.At)),
		el,
	))
	return stanza.New(stanza.NSClient, stanza.KindMessage).
		SetAttr("from", from).SetAttr("to", to).SetAttr("id", randomID()).
		Append(result)
}
