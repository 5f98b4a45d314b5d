package portable

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Record kinds and namespaces of the stores import and export fill (the
// vcard, private, blocking, lastactivity and offline modules' own).
const (
	kindVCard   = "vcard"
	kindPrivate = "private"
	kindBlock   = "blocklist"
	kindLast    = "last"
	kindOffline = "offline"

	nsRoster   = "jabber:iq:roster"
	nsPrivate  = "jabber:iq:private"
	nsVCard    = "vcard-temp"
	nsPrivacy  = "jabber:iq:privacy"
	nsBlocking = "urn:xmpp:blocking"
	// NSLast is Parley's extension element for last activity (XEP-0012):
	// <last xmlns='urn:xmpp:parley:pie:last:0' stamp='RFC 3339'>status</last>.
	NSLast = "urn:xmpp:parley:pie:last:0"
)

// Stores are what import writes and export reads.
type Stores struct {
	DB       *storage.DB
	Accounts *account.Store
	Rosters  *roster.Store
}

// NewStores returns the stores over db; iterations is the PBKDF2 count
// for passwords hashed on import.
func NewStores(db *storage.DB, iterations int) Stores {
	return Stores{DB: db, Accounts: account.NewStore(db, iterations), Rosters: roster.NewStore(db)}
}

// ImportOptions tune Import.
type ImportOptions struct {
	// Domains are the served domains; users of other hosts are skipped.
	Domains []string
	// DryRun checks and reports without writing.
	DryRun bool
	Limits Limits
}

// Import reads the XEP-0227 files at paths (each a <server-data/>
// document, possibly split with XInclude) and imports their accounts. It
// first reads every file whole: a file that is not well-formed XML, has a
// DTD, is truncated or exceeds the limits stops the import before
// anything is written, with an error. Then each account is written in one
// transaction; accounts that cannot be imported are skipped, and the
// Report says which and why. The error is nil when the files were read,
// whatever was skipped.
func Import(ctx context.Context, st Stores, paths []string, opts ImportOptions) (*Report, error) {
	lim := opts.Limits.withDefaults()
	rep := &Report{DryRun: opts.DryRun}
	// Pass 1: the files are whole and well-formed.
	for _, p := range paths {
		w := &walker{lim: lim, v: visitor{host: func(string, string) {}, user: func(userEntry) {}, note: func(string, string) {}}}
		if err := w.walk(p); err != nil {
			return nil, fmt.Errorf("portable: %s: %w; nothing was imported", p, err)
		}
	}
	im := &importer{st: st, rep: rep, opts: opts, seen: map[jid.JID]string{}, served: map[string]bool{}}
	for _, d := range opts.Domains {
		im.served[d] = true
	}
	for _, p := range paths {
		w := &walker{lim: lim, v: visitor{host: im.host, user: func(u userEntry) { im.user(ctx, u) }, note: rep.note}}
		if err := w.walk(p); err != nil {
			return rep, fmt.Errorf("portable: %s changed while it was imported: %w", p, err)
		}
	}
	return rep, ctx.Err()
}

type importer struct {
	st     Stores
	rep    *Report
	opts   ImportOptions
	seen   map[jid.JID]string // imported or attempted accounts → where
	served map[string]bool
}

func (im *importer) host(host, at string) {
	d, err := jid.New("", host, "")
	switch {
	case err != nil:
		im.rep.note(at, fmt.Sprintf("host %q is not a valid domain: its users are skipped", host))
	case !im.served[d.Domain()]:
		im.rep.note(at, fmt.Sprintf("host %s is not served (not in domains): its users are skipped", d.Domain()))
	}
}

// plan is everything to write for one account, checked.
type plan struct {
	j        jid.JID
	password string
	creds    []sasl.Credentials
	items    []*roster.Item
	pending  []pendingReq
	vcard    *stanza.Element
	private  []storage.Record
	blocked  []storage.Record
	last     *storage.Record
	offline  []offlineMsg
}

type pendingReq struct {
	from jid.JID
	el   *stanza.Element
}

type offlineMsg struct {
	el *stanza.Element
	at time.Time
}

func (im *importer) user(ctx context.Context, u userEntry) {
	if ctx.Err() != nil {
		return
	}
	name := u.name
	what := fmt.Sprintf("%s@%s (%s)", name, u.host, u.at)
	if u.err != nil {
		im.rep.skip(what, u.err.Error())
		return
	}
	j, err := jid.New(name, u.host, "")
	if err != nil || name == "" {
		im.rep.skip(what, fmt.Sprintf("not a valid account JID: %v", errOr(err, "no name")))
		return
	}
	what = j.String()
	if !im.served[j.Domain()] {
		im.rep.skip(what, "host not served")
		return
	}
	if prev, dup := im.seen[j]; dup {
		im.rep.skip(what+" ("+u.at+")", "duplicate: the file has this user already at "+prev)
		return
	}
	im.seen[j] = u.at
	p, err := im.plan(j, u.el)
	if err != nil {
		im.rep.skip(what, err.Error())
		return
	}
	if ok, err := im.st.Accounts.Exists(ctx, j); err != nil {
		im.rep.skip(what, "database: "+err.Error())
		return
	} else if ok {
		im.rep.skip(what, "the account exists already (nothing of it was changed)")
		return
	}
	if !im.opts.DryRun {
		if err := im.write(ctx, p); err != nil {
			if errors.Is(err, account.ErrExists) {
				im.rep.skip(what, "the account exists already (nothing of it was changed)")
			} else {
				im.rep.skip(what, "not written, nothing of it kept: "+err.Error())
			}
			return
		}
	}
	im.rep.Imported = append(im.rep.Imported, what)
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// plan checks the user element and turns it into what to write. Parts
// that cannot be imported are left out with a note; an account without
// usable credentials is refused.
func (im *importer) plan(j jid.JID, el *stanza.Element) (*plan, error) {
	p := &plan{j: j, password: el.Attr("password")}
	note := func(format string, args ...any) { im.rep.note(j.String(), fmt.Sprintf(format, args...)) }
	for _, c := range el.ChildElements() {
		switch {
		case c.Space == NSScram && c.Local == "scram-credentials":
			cr, err := scramCredentials(c)
			if err != nil {
				note("SCRAM credentials left out: %v", err)
				continue
			}
			p.creds = append(p.creds, cr)
		case c.Space == nsRoster && c.Local == "query":
			p.roster(c, note)
		case c.Local == "presence" && (c.Space == stanza.NSClient || c.Space == NS || c.Space == NSOld):
			p.pendingRequest(c, note)
		case c.Space == nsVCard && c.Local == "vCard":
			p.vcard = c
		case c.Space == nsPrivate && c.Local == "query":
			p.privateXML(c, note)
		case isPIEName(c, "offline-messages"):
			p.offlineMessages(c, note)
		case c.Space == nsBlocking && c.Local == "blocklist":
			p.blocklist(c.ChildElements(), note)
		case c.Space == nsPrivacy && c.Local == "query":
			p.privacy(c, note)
		case c.Space == NSLast && c.Local == "last":
			p.lastActivity(c, note)
		default:
			note("<%s xmlns='%s'> left out: Parley does not import it", c.Local, c.Space)
		}
	}
	if p.password == "" && len(p.creds) == 0 {
		return nil, errors.New("neither a password nor usable SCRAM credentials: nobody could log in")
	}
	if p.password != "" {
		if _, err := sasl.PreparePassword(p.password); err != nil {
			if len(p.creds) == 0 {
				return nil, fmt.Errorf("the password is not allowed (PRECIS OpaqueString): %v", err)
			}
			note("the password is not allowed (PRECIS OpaqueString), the SCRAM credentials are used")
			p.password = ""
		}
	}
	seen := map[sasl.Hash]bool{}
	p.creds = slices.DeleteFunc(p.creds, func(c sasl.Credentials) bool {
		dup := seen[c.Hash]
		seen[c.Hash] = true
		if dup {
			note("two sets of %s credentials: the first is used", c.Hash)
		}
		return dup
	})
	return p, nil
}

func isPIEName(el *stanza.Element, local string) bool {
	return el.Local == local && (el.Space == NS || el.Space == NSOld)
}

// scramCredentials reads <scram-credentials/> (XEP-0227 §4.2). ejabberd
// (through 23.x) encodes salt and keys twice in base64; keys of the wrong
// size that decode once more to the right size are taken as that.
func scramCredentials(el *stanza.Element) (sasl.Credentials, error) {
	var h sasl.Hash
	switch el.Attr("mechanism") {
	case "SCRAM-SHA-1":
		h = sasl.SHA1
	case "SCRAM-SHA-256":
		h = sasl.SHA256
	case "SCRAM-SHA-512":
		h = sasl.SHA512
	default:
		return sasl.Credentials{}, fmt.Errorf("mechanism %q is not supported", el.Attr("mechanism"))
	}
	iter, err := strconv.Atoi(strings.TrimSpace(el.ChildText(NSScram, "iter-count")))
	if err != nil || iter <= 0 {
		return sasl.Credentials{}, fmt.Errorf("%s: bad iter-count %q", h, el.ChildText(NSScram, "iter-count"))
	}
	field := func(name string) ([]byte, error) {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(el.ChildText(NSScram, name)))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("%s: %s is not base64", h, name)
		}
		return b, nil
	}
	c := sasl.Credentials{Hash: h, Iterations: iter}
	if c.Salt, err = field("salt"); err != nil {
		return c, err
	}
	if c.StoredKey, err = field("stored-key"); err != nil {
		return c, err
	}
	if c.ServerKey, err = field("server-key"); err != nil {
		return c, err
	}
	if len(c.StoredKey) != h.Size() || len(c.ServerKey) != h.Size() {
		stored, err1 := base64.StdEncoding.DecodeString(string(c.StoredKey))
		server, err2 := base64.StdEncoding.DecodeString(string(c.ServerKey))
		salt, err3 := base64.StdEncoding.DecodeString(string(c.Salt))
		if err1 != nil || err2 != nil || err3 != nil || len(stored) != h.Size() || len(server) != h.Size() {
			return c, fmt.Errorf("%s: keys of %d and %d bytes, want %d", h, len(c.StoredKey), len(c.ServerKey), h.Size())
		}
		c.StoredKey, c.ServerKey, c.Salt = stored, server, salt
	}
	return c, nil
}

func (p *plan) roster(q *stanza.Element, note func(string, ...any)) {
	seen := map[jid.JID]bool{}
	for _, it := range q.ChildElements() {
		if it.Space != nsRoster || it.Local != "item" {
			note("roster: <%s xmlns='%s'> left out", it.Local, it.Space)
			continue
		}
		raw := it.Attr("jid")
		c, err := jid.Parse(raw)
		if err != nil || !c.IsBare() {
			note("roster item %q left out: not a valid bare JID", raw)
			continue
		}
		if seen[c] {
			note("roster item %s left out: listed twice", c)
			continue
		}
		sub := it.Attr("subscription")
		if sub == "" {
			sub = "none"
		}
		s, ok := roster.ParseSub(sub)
		if !ok {
			note("roster item %s left out: subscription %q", c, sub)
			continue
		}
		var groups []string
		for _, g := range it.ChildElements() {
			if g.Local == "group" {
				if name := g.Text(); name != "" && !slices.Contains(groups, name) {
					groups = append(groups, name)
				}
			}
		}
		slices.Sort(groups)
		seen[c] = true
		p.items = append(p.items, &roster.Item{
			JID: c, Name: it.Attr("name"), Groups: groups,
			State: roster.State{Sub: s, PendingOut: it.Attr("ask") == "subscribe", Approved: it.Attr("approved") == "true"},
		})
	}
}

// pendingRequest keeps an inbound subscription request the user has not
// answered (a <presence type='subscribe'/> child of <user/>).
func (p *plan) pendingRequest(el *stanza.Element, note func(string, ...any)) {
	if el.Attr("type") != "subscribe" {
		note("<presence type='%s'/> left out: only pending subscription requests are imported", el.Attr("type"))
		return
	}
	from, err := jid.Parse(el.Attr("from"))
	if err != nil {
		note("subscription request from %q left out: not a valid JID", el.Attr("from"))
		return
	}
	from = from.Bare()
	for _, r := range p.pending {
		if r.from == from {
			return
		}
	}
	req := el.Copy()
	req.Space = stanza.NSClient
	req.SetAttr("from", from.String())
	req.SetAttr("to", p.j.String())
	p.pending = append(p.pending, pendingReq{from: from, el: req})
}

// reservedPrivate mirrors what XEP-0049 storage refuses to hold.
func reservedPrivate(space string) bool {
	return space == "" || strings.HasPrefix(space, "jabber:") ||
		strings.HasPrefix(space, "http://jabber.org/") || strings.HasPrefix(space, "vcard-temp")
}

func (p *plan) privateXML(q *stanza.Element, note func(string, ...any)) {
	index := map[string]int{}
	var groups [][]*stanza.Element
	for _, c := range q.ChildElements() {
		if reservedPrivate(c.Space) {
			note("private XML <%s xmlns='%s'> left out: reserved namespace", c.Local, c.Space)
			continue
		}
		n := "{" + c.Space + "}" + c.Local
		i, ok := index[n]
		if !ok {
			i = len(groups)
			index[n] = i
			groups = append(groups, nil)
			p.private = append(p.private, storage.Record{Name: n})
		}
		groups[i] = append(groups[i], c)
	}
	for i := range p.private {
		p.private[i].Data = storage.EncodeElements(groups[i]...)
	}
}

func (p *plan) offlineMessages(el *stanza.Element, note func(string, ...any)) {
	for _, m := range el.ChildElements() {
		if m.Local != "message" || (m.Space != stanza.NSClient && m.Space != stanza.NSServer) {
			note("offline message <%s xmlns='%s'> left out: not a message", m.Local, m.Space)
			continue
		}
		if f := m.Attr("from"); f != "" {
			if _, err := jid.Parse(f); err != nil {
				note("offline message from %q left out: not a valid JID", f)
				continue
			}
		}
		msg := m.Copy()
		msg.Space = stanza.NSClient
		at := time.Now()
		msg.RemoveChildren(func(c *stanza.Element) bool {
			if (c.Space == nsDelay || c.Space == nsXDelay) && (c.Local == "delay" || c.Local == "x") {
				if t, ok := delayStamp(c); ok {
					at = t
				}
				return true
			}
			return false
		})
		msg.SetAttr("to", p.j.String())
		p.offline = append(p.offline, offlineMsg{el: msg, at: at})
	}
}

func delayStamp(d *stanza.Element) (time.Time, bool) {
	s := d.Attr("stamp")
	for _, layout := range []string{time.RFC3339Nano, "20060102T15:04:05"} { // XEP-0203, legacy XEP-0091
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (p *plan) blocklist(items []*stanza.Element, note func(string, ...any)) {
	for _, it := range items {
		if it.Local != "item" {
			continue
		}
		j, err := jid.Parse(it.Attr("jid"))
		if err != nil {
			note("blocked JID %q left out: not a valid JID", it.Attr("jid"))
			continue
		}
		if !slices.ContainsFunc(p.blocked, func(r storage.Record) bool { return r.Name == j.String() }) {
			p.blocked = append(p.blocked, storage.Record{Name: j.String()})
		}
	}
}

// privacy maps the default privacy list's "deny everything from this JID"
// items, which is how XEP-0191 blocking is stored on privacy lists, to
// the block list. Other privacy rules have no equivalent here.
func (p *plan) privacy(q *stanza.Element, note func(string, ...any)) {
	def := ""
	if d := q.Child(nsPrivacy, "default"); d != nil {
		def = d.Attr("name")
	}
	for _, list := range q.ChildElements() {
		if list.Local != "list" {
			continue
		}
		if list.Attr("name") != def {
			note("privacy list %q left out: only the default list's blocked JIDs are imported", list.Attr("name"))
			continue
		}
		var block []*stanza.Element
		for _, it := range list.ChildElements() {
			if it.Attr("type") == "jid" && it.Attr("action") == "deny" && len(it.ChildElements()) == 0 {
				block = append(block, stanza.New(nsBlocking, "item").SetAttr("jid", it.Attr("value")))
			} else {
				note("privacy rule (type %q, action %q) left out: only blocked JIDs are imported", it.Attr("type"), it.Attr("action"))
			}
		}
		p.blocklist(block, note)
	}
}

func (p *plan) lastActivity(el *stanza.Element, note func(string, ...any)) {
	t, err := time.Parse(time.RFC3339Nano, el.Attr("stamp"))
	if err != nil {
		note("last activity left out: bad stamp %q", el.Attr("stamp"))
		return
	}
	p.last = &storage.Record{Data: []byte(el.Text()), Updated: t}
}

// write stores the plan in one transaction.
func (im *importer) write(ctx context.Context, p *plan) error {
	return im.st.DB.Atomic(ctx, func(ctx context.Context) error {
		var err error
		if p.password != "" {
			err = im.st.Accounts.Create(ctx, p.j, p.password)
		} else {
			err = im.st.Accounts.CreateWithCredentials(ctx, p.j, p.creds)
		}
		if err != nil {
			return err
		}
		if len(p.items) > 0 || len(p.pending) > 0 {
			err := im.st.Rosters.Update(ctx, func(tx *roster.Tx) error {
				for _, it := range p.items {
					if err := tx.PutItem(p.j, it); err != nil {
						return err
					}
				}
				for _, r := range p.pending {
					if err := tx.PutPending(p.j, r.from, storage.EncodeElements(r.el), time.Now()); err != nil {
						return err
					}
				}
				_, err := tx.Bump(p.j)
				return err
			})
			if err != nil {
				return err
			}
		}
		if p.vcard != nil {
			if err := im.st.DB.Records(kindVCard).Put(ctx, p.j, []storage.Record{{Data: storage.EncodeElements(p.vcard)}}, 0); err != nil {
				return err
			}
		}
		for kind, recs := range map[string][]storage.Record{kindPrivate: p.private, kindBlock: p.blocked} {
			if len(recs) > 0 {
				if err := im.st.DB.Records(kind).Put(ctx, p.j, recs, 0); err != nil {
					return err
				}
			}
		}
		if p.last != nil {
			if err := im.st.DB.Records(kindLast).Put(ctx, p.j, []storage.Record{*p.last}, 0); err != nil {
				return err
			}
		}
		q := im.st.DB.Queue(kindOffline)
		for _, m := range p.offline {
			if err := q.Push(ctx, p.j, storage.EncodeElements(m.el), m.at, 0); err != nil {
				return err
			}
		}
		return nil
	})
}
