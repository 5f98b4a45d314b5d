package portable

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// ExportSummary counts what Export wrote.
type ExportSummary struct {
	Hosts, Users, RosterItems, OfflineMessages int
}

// Export writes the accounts of domains, with everything Parley keeps for
// them, as one XEP-0227 document (namespace urn:xmpp:pie:0) to w. The
// document holds credentials: callers write it where only its owner can
// read it. Each account is read on its own; accounts created or changed
// while Export runs may or may not be in it.
func Export(ctx context.Context, st Stores, w io.Writer, domains []string) (ExportSummary, error) {
	var sum ExportSummary
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='" + NS + "'>\n")
	var dec storage.ElementDecoder
	for _, d := range domains {
		users, err := st.Accounts.List(ctx, d)
		if err != nil {
			return sum, fmt.Errorf("portable: export %s: %w", d, err)
		}
		sum.Hosts++
		host := stanza.AppendEscapedAttr(nil, d)
		fmt.Fprintf(bw, "<host jid='%s'>\n", host)
		for _, u := range users {
			el, n, err := exportUser(ctx, st, &dec, u)
			if err != nil {
				return sum, fmt.Errorf("portable: export %s: %w", u, err)
			}
			bw.Write(el.AppendXML(nil, NS))
			bw.WriteByte('\n')
			sum.Users++
			sum.RosterItems += n.items
			sum.OfflineMessages += n.offline
		}
		bw.WriteString("</host>\n")
	}
	bw.WriteString("</server-data>\n")
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("portable: export: %w", err)
	}
	return sum, nil
}

type counts struct{ items, offline int }

// exportUser builds the <user/> element of u.
func exportUser(ctx context.Context, st Stores, dec *storage.ElementDecoder, u jid.JID) (*stanza.Element, counts, error) {
	var n counts
	el := stanza.New(NS, "user").SetAttr("name", u.Local())
	creds, err := st.Accounts.AllCredentials(ctx, u)
	if err != nil {
		return nil, n, err
	}
	for _, c := range creds {
		el.Append(scramElement(c))
	}
	q, err := rosterElement(ctx, st, u)
	if err != nil {
		return nil, n, err
	}
	n.items = len(q.Children)
	el.Append(q)
	pending, err := st.Rosters.Pending(ctx, u)
	if err != nil {
		return nil, n, err
	}
	for _, p := range pending {
		if els, err := dec.Decode(p.Stanza); err == nil && len(els) == 1 {
			el.Append(els[0])
		}
	}
	if rec, found, err := st.DB.Records(kindVCard).Get(ctx, u, ""); err != nil {
		return nil, n, err
	} else if found {
		if els, err := dec.Decode(rec.Data); err == nil && len(els) == 1 {
			el.Append(els[0])
		}
	}
	priv, err := st.DB.Records(kindPrivate).List(ctx, u)
	if err != nil {
		return nil, n, err
	}
	if len(priv) > 0 {
		pq := stanza.New(nsPrivate, "query")
		for _, r := range priv {
			if els, err := dec.Decode(r.Data); err == nil {
				pq.Append(els...)
			}
		}
		el.Append(pq)
	}
	if err := appendOffline(ctx, st, dec, u, el, &n); err != nil {
		return nil, n, err
	}
	blocked, err := st.DB.Records(kindBlock).List(ctx, u)
	if err != nil {
		return nil, n, err
	}
	if len(blocked) > 0 {
		bl := stanza.New(nsBlocking, "blocklist")
		for _, r := range blocked {
			bl.Append(stanza.New(nsBlocking, "item").SetAttr("jid", r.Name))
		}
		el.Append(bl)
	}
	if rec, found, err := st.DB.Records(kindLast).Get(ctx, u, ""); err != nil {
		return nil, n, err
	} else if found {
		el.Append(stanza.New(NSLast, "last").SetAttr("stamp", rec.Updated.UTC().Format(time.RFC3339Nano)).AppendText(string(rec.Data)))
	}
	return el, n, nil
}

func scramElement(c sasl.Credentials) *stanza.Element {
	b64 := base64.StdEncoding.EncodeToString
	text := func(name, v string) *stanza.Element { return stanza.New(NSScram, name).AppendText(v) }
	return stanza.New(NSScram, "scram-credentials").SetAttr("mechanism", "SCRAM-"+string(c.Hash)).Append(
		text("iter-count", fmt.Sprint(c.Iterations)),
		text("salt", b64(c.Salt)),
		text("server-key", b64(c.ServerKey)),
		text("stored-key", b64(c.StoredKey)),
	)
}

// rosterElement is the roster as a roster get result would show it
// (RFC 6121 §2.1.3), items sorted by JID. Shared groups are left out:
// they are configuration, not the user's roster.
func rosterElement(ctx context.Context, st Stores, u jid.JID) (*stanza.Element, error) {
	items, _, err := st.Rosters.Load(ctx, u)
	if err != nil {
		return nil, err
	}
	list := make([]*roster.Item, 0, len(items))
	for _, it := range items {
		list = append(list, it)
	}
	slices.SortFunc(list, func(a, b *roster.Item) int { return strings.Compare(a.JID.String(), b.JID.String()) })
	q := stanza.New(nsRoster, "query")
	for _, it := range list {
		q.Append(it.Element())
	}
	return q, nil
}

func appendOffline(ctx context.Context, st Stores, dec *storage.ElementDecoder, u jid.JID, el *stanza.Element, n *counts) error {
	items, err := st.DB.Queue(kindOffline).Peek(ctx, u, 0)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	om := stanza.New(NS, "offline-messages")
	for _, it := range items {
		els, err := dec.Decode(it.Data)
		if err != nil || len(els) != 1 {
			continue
		}
		m := els[0]
		m.Append(stanza.New(nsDelay, "delay").SetAttr("from", u.Domain()).
			SetAttr("stamp", it.Created.UTC().Format(time.RFC3339Nano)).AppendText("Offline Storage"))
		om.Append(m)
		n.offline++
	}
	el.Append(om)
	return nil
}
