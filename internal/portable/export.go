package portable

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
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
	for _, d := range domains {
		users, err := st.Accounts.List(ctx, d)
		if err != nil {
			return sum, fmt.Errorf("portable: export %s: %w", d, err)
		}
		sum.Hosts++
		host := stanza.AppendEscapedAttr(nil, d)
		fmt.Fprintf(bw, "<host jid='%s'>\n", host)
		for _, u := range users {
			el, err := exportUser(ctx, st, u)
			if err != nil {
				return sum, fmt.Errorf("portable: export %s: %w", u, err)
			}
			bw.Write(el.AppendXML(nil, NS))
			bw.WriteByte('\n')
			sum.Users++
			sum.count(el)
		}
		bw.WriteString("</host>\n")
	}
	bw.WriteString("</server-data>\n")
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("portable: export: %w", err)
	}
	return sum, nil
}

// count adds the roster items and offline messages of a <user/> element.
func (sum *ExportSummary) count(user *stanza.Element) {
	for _, c := range user.ChildElements() {
		switch {
		case c.Space == nsRoster && c.Local == "query":
			sum.RosterItems += len(c.ChildElements())
		case c.Space == NS && c.Local == "offline-messages":
			sum.OfflineMessages += len(c.ChildElements())
		}
	}
}

// exportUser builds the <user/> element of u: its credentials, then each
// stored feature's section in the order of st.Data.
func exportUser(ctx context.Context, st Stores, u jid.JID) (*stanza.Element, error) {
	el := stanza.New(NS, "user").SetAttr("name", u.Local())
	creds, err := st.Accounts.AllCredentials(ctx, u)
	if err != nil {
		return nil, err
	}
	for _, c := range creds {
		el.Append(scramElement(c))
	}
	for _, d := range st.Data {
		els, err := d.ExportUser(ctx, u)
		if err != nil {
			return nil, err
		}
		el.Append(els...)
	}
	return el, nil
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
