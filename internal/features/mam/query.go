package mam

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Form fields (§4.1, and #extended's after-id, before-id and ids).
const (
	fieldFormType = "FORM_TYPE"
	fieldWith     = "with"
	fieldStart    = "start"
	fieldEnd      = "end"
	fieldAfterID  = "after-id"
	fieldBeforeID = "before-id"
	fieldIDs      = "ids"
)

// maxIDs bounds the ids field.
const maxIDs = 250

// countLimit bounds the RSM <count/>: a query whose filters select more
// messages gets no count (XEP-0059 makes it optional), so that no query
// costs a scan of a huge archive.
const countLimit = 10000

// form answers a query get with the search form (§4.1.5).
func (m *Module) form(_ context.Context, iq stanza.IQ) (*stanza.Element, error) {
	if _, _, err := m.owner(iq); err != nil {
		return nil, err
	}
	return stanza.New(NS, "query").Append(SearchForm()), nil
}

func field(name, typ string) *stanza.Element {
	return stanza.New(NSData, "field").SetAttr("var", name).SetAttr("type", typ)
}

// query answers a query set (§4): the results go to the querying
// session, then the iq result carries <fin/>.
func (m *Module) query(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	user, s, err := m.owner(iq)
	if err != nil {
		return nil, err
	}
	req, err := ParseQuery(iq.Payload, PageLimits{Default: m.cfg.MAM.DefaultPageSize, Max: m.cfg.MAM.MaxPageSize})
	if err != nil {
		return nil, err
	}
	m.markSynced(s)
	if req.Archive.Max == 0 { // RSM max 0: the count only (XEP-0059 §2.6)
		req.Archive.Max, req.Archive.Count = 1, true
		page, err := m.archive.Query(ctx, user, req.Archive)
		if err != nil {
			return nil, queryError(err)
		}
		return CountOnly(page.Count), nil
	}
	page, err := m.archive.Query(ctx, user, req.Archive)
	if err != nil {
		return nil, queryError(err)
	}
	trimPage(&page, req.Archive.Backward, m.pageBytes())
	msgs := page.Messages
	if req.Flip {
		msgs = slices.Clone(msgs)
		slices.Reverse(msgs)
	}
	if err := m.send(s, user, req.ID, msgs); err != nil {
		return nil, err
	}
	return Fin(page, page.Messages), nil
}

// defaultPageBytes bounds the stored bytes of one page of results when
// Config.MaxPageBytes is 0.
const defaultPageBytes = 1 << 20

// trimPage shortens page to what fits in limit bytes (at least one
// message), keeping the end the paging comes from: the oldest messages
// of a forward page, the newest of a backward one. A shortened page is
// not complete; the client pages on from its first or last id.
func trimPage(page *storage.ArchivePage, backward bool, limit int) {
	msgs, size := page.Messages, 0
	for i := range msgs {
		j := i
		if backward {
			j = len(msgs) - 1 - i
		}
		if size += len(msgs[j].Data); size > limit && i > 0 {
			if backward {
				page.Messages = msgs[j+1:]
			} else {
				page.Messages = msgs[:j]
			}
			page.Complete = false
			return
		}
	}
}

func (m *Module) pageBytes() int {
	if n := m.cfg.MaxPageBytes; n > 0 {
		return n
	}
	return defaultPageBytes
}

func queryError(err error) error {
	if errors.Is(err, storage.ErrNoSuchID) {
		return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such message in the archive")
	}
	return err
}

// send delivers the result messages to the querying session, in order.
func (m *Module) send(s module.Session, owner jid.JID, queryID string, msgs []storage.ArchivedMessage) error {
	var dec storage.ElementDecoder
	for _, am := range msgs {
		els, err := dec.Decode(am.Data)
		if err != nil || len(els) != 1 {
			m.log.Error("unreadable archived message skipped", "owner", owner, "id", am.ID, "err", err)
			continue
		}
		msg := Result(owner.String(), s.JID().String(), queryID, am, els[0])
		if err := s.Deliver(msg); err != nil {
			return fmt.Errorf("mam: deliver results to %s: %w", s.JID(), err)
		}
	}
	return nil
}

func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// parseForm reads the submitted data form into q.
func parseForm(x *stanza.Element, q *storage.ArchiveQuery) error {
	if t := x.Attr("type"); t != "submit" && t != "" {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "the form must be of type submit, not %q", t)
	}
	for _, f := range x.ChildElements() {
		if f.Space != NSData || f.Local != "field" {
			continue
		}
		var values []string
		for _, v := range f.ChildElements() {
			if v.Space == NSData && v.Local == "value" {
				values = append(values, strings.TrimSpace(v.Text()))
			}
		}
		if err := setField(q, f.Attr("var"), values); err != nil {
			return err
		}
	}
	return nil
}

func setField(q *storage.ArchiveQuery, name string, values []string) error {
	one := ""
	if len(values) > 0 {
		one = values[0]
	}
	var err error
	switch name {
	case fieldFormType:
		if one != NS {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "FORM_TYPE must be %s", NS)
		}
	case fieldWith:
		if one != "" {
			if q.With, err = jid.Parse(one); err != nil {
				return stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "with: %v", err)
			}
		}
	case fieldStart:
		q.Start, err = parseTime(name, one)
	case fieldEnd:
		q.End, err = parseTime(name, one)
	case fieldAfterID:
		q.AfterID = one
	case fieldBeforeID:
		q.BeforeID = one
	case fieldIDs:
		if len(values) > maxIDs {
			return stanza.Errorf(stanza.Modify, stanza.PolicyViolation, "at most %d ids in one query", maxIDs)
		}
		q.IDs = slices.DeleteFunc(values, func(s string) bool { return s == "" })
	default:
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "unknown field %q", name)
	}
	return err
}

// parseTime reads an XEP-0082 DateTime; empty is no bound.
func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1 {
		return time.Time{}, stanza.Errorf(stanza.Modify, stanza.BadRequest, "%s: %q is not an XEP-0082 date and time", name, s)
	}
	return t, nil
}

// parseRSM reads the XEP-0059 request: max (capped at maxPage), after,
// before.
func parseRSM(set *stanza.Element, q *storage.ArchiveQuery, maxPage int) error {
	for _, c := range set.ChildElements() {
		if c.Space != NSRSM {
			continue
		}
		text := strings.TrimSpace(c.Text())
		switch c.Local {
		case "max":
			n, err := strconv.Atoi(text)
			if err != nil || n < 0 {
				return stanza.Errorf(stanza.Modify, stanza.BadRequest, "RSM max must be a non-negative integer, not %q", text)
			}
			q.Max = min(n, maxPage)
		case "after":
			q.After = text
		case "before":
			q.Backward, q.Before = true, text
		case "index":
			return stanza.Errorf(stanza.Cancel, stanza.FeatureNotImplemented, "RSM index is not supported; page with after and before")
		}
	}
	if q.Backward && q.After != "" { // both: the page before Before, after After
		if q.AfterID != "" {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "RSM after together with before and after-id")
		}
		q.AfterID, q.After = q.After, ""
	}
	return nil
}

// metadata answers the #extended metadata query: the first and last
// message of the archive.
func (m *Module) metadata(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	user, _, err := m.owner(iq)
	if err != nil {
		return nil, err
	}
	b, err := m.archive.Bounds(ctx, user)
	if err != nil {
		return nil, err
	}
	md := stanza.New(NS, "metadata")
	if !b.Empty {
		md.Append(
			stanza.New(NS, "start").SetAttr("id", b.FirstID).SetAttr("timestamp", stamp(b.FirstAt)),
			stanza.New(NS, "end").SetAttr("id", b.LastID).SetAttr("timestamp", stamp(b.LastAt)),
		)
	}
	return md, nil
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
