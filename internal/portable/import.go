package portable

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// nsRoster is the roster's namespace (RFC 6121), whose items Export
// counts.
const nsRoster = "jabber:iq:roster"

// Stores are what import writes and export reads: the accounts, and each
// stored feature's section of a user's data (module.UserData), in the
// order Export writes them.
type Stores struct {
	DB       *storage.DB
	Accounts *account.Store
	Data     []module.UserData
}

// NewStores returns the stores over db; iterations is the PBKDF2 count
// for passwords hashed on import, data the stored features' sections
// (internal/server's UserData lists them all).
func NewStores(db *storage.DB, iterations int, data ...module.UserData) Stores {
	return Stores{DB: db, Accounts: account.NewStore(db, iterations), Data: data}
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
	writes   []func(context.Context) error // the features' sections
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

// plan checks the user element and turns it into what to write: the
// credentials here, every other child through the feature whose section
// accepts it. Parts that cannot be imported are left out with a note; an
// account without usable credentials is refused.
func (im *importer) plan(j jid.JID, el *stanza.Element) (*plan, error) {
	p := &plan{j: j, password: el.Attr("password")}
	note := func(why string) { im.rep.note(j.String(), why) }
	sections := make([][]*stanza.Element, len(im.st.Data))
	for _, c := range el.ChildElements() {
		if c.Space == NSScram && c.Local == "scram-credentials" {
			cr, err := scramCredentials(c)
			if err != nil {
				note(fmt.Sprintf("SCRAM credentials left out: %v", err))
				continue
			}
			p.creds = append(p.creds, cr)
			continue
		}
		i := slices.IndexFunc(im.st.Data, func(d module.UserData) bool { return d.Accepts(c) })
		if i < 0 {
			note(fmt.Sprintf("<%s xmlns='%s'> left out: Parley does not import it", c.Local, c.Space))
			continue
		}
		sections[i] = append(sections[i], c)
	}
	for i, els := range sections {
		if len(els) == 0 {
			continue
		}
		if w := im.st.Data[i].PlanImport(j, els, note); w != nil {
			p.writes = append(p.writes, w)
		}
	}
	if err := p.checkCredentials(note); err != nil {
		return nil, err
	}
	return p, nil
}

// checkCredentials makes sure someone can log in: a usable password or
// SCRAM credentials, one set per hash.
func (p *plan) checkCredentials(note func(string)) error {
	if p.password == "" && len(p.creds) == 0 {
		return errors.New("neither a password nor usable SCRAM credentials: nobody could log in")
	}
	if p.password != "" {
		if _, err := sasl.PreparePassword(p.password); err != nil {
			if len(p.creds) == 0 {
				return fmt.Errorf("the password is not allowed (PRECIS OpaqueString): %v", err)
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
			note(fmt.Sprintf("two sets of %s credentials: the first is used", c.Hash))
		}
		return dup
	})
	return nil
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

// write stores the plan in one transaction: the account, then each
// feature's section.
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
		for _, w := range p.writes {
			if err := w(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}
