package private

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// NS is the namespace of XEP-0049.
const NS = "jabber:iq:private"

// kind names private XML in storage; a record per {namespace}name.
const kind = "private"

// Defaults for zero Config fields.
const (
	DefaultMaxBytes = 64 << 10
	DefaultMaxItems = 256
)

// Config is what the module needs.
type Config struct {
	DB *storage.DB
	// MaxBytes bounds one stored fragment (DefaultMaxBytes when 0).
	MaxBytes int
	// MaxItems bounds the fragments of one user (DefaultMaxItems when 0).
	MaxItems int
}

// Module answers jabber:iq:private gets and sets.
type Module struct {
	cfg     Config
	recs    *storage.Records
	changed ChangeHook
}

// ChangeHook is told, after the commit, of each fragment a user stored
// through jabber:iq:private (XEP-0411 mirrors bookmarks into PEP).
type ChangeHook func(ctx context.Context, user jid.JID, el *stanza.Element)

// SetChangeHook installs the function told about stored fragments; the
// server wires it before the listeners open.
func (m *Module) SetChangeHook(h ChangeHook) { m.changed = h }

// Fragment returns user's stored fragment {space}local, or nil.
func (m *Module) Fragment(ctx context.Context, user jid.JID, space, local string) (*stanza.Element, error) {
	rec, found, err := m.recs.Get(ctx, user, "{"+space+"}"+local)
	if err != nil || !found {
		return nil, err
	}
	els, err := storage.DecodeElements(rec.Data)
	if err != nil || len(els) == 0 {
		return nil, fmt.Errorf("private: stored {%s}%s of %s is unreadable: %v", space, local, user, err)
	}
	return els[0], nil
}

// PutFragment stores el for user, replacing the fragment of the same
// name, within the module's limits; the change hook is not told.
func (m *Module) PutFragment(ctx context.Context, user jid.JID, el *stanza.Element) error {
	recs := records([]*stanza.Element{el})
	if len(recs[0].Data) > m.cfg.MaxBytes {
		return fmt.Errorf("private: %s is %d bytes; at most %d are stored", recs[0].Name, len(recs[0].Data), m.cfg.MaxBytes)
	}
	if err := m.recs.Put(ctx, user, recs, m.cfg.MaxItems); err != nil {
		return fmt.Errorf("private: put for %s: %w", user, err)
	}
	return nil
}

// New returns the module.
func New(cfg Config) *Module {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = DefaultMaxItems
	}
	return &Module{cfg: cfg, recs: cfg.DB.Records(kind)}
}

// Register declares the iq handlers.
func (m *Module) Register(reg *module.Registry) {
	reg.IQ(module.Account, stanza.Get, NS, "query", m.get)
	reg.IQ(module.Account, stanza.Set, NS, "query", m.set)
}

// reserved reports whether a namespace may not be used for storage
// (XEP-0049 §2.3).
func reserved(space string) bool {
	return space == "" || strings.HasPrefix(space, "jabber:") ||
		strings.HasPrefix(space, "http://jabber.org/") || strings.HasPrefix(space, "vcard-temp")
}

func name(el *stanza.Element) string { return "{" + el.Space + "}" + el.Local }

// fragments checks the query's children and the addressee.
func fragments(iq stanza.IQ) ([]*stanza.Element, error) {
	if !iq.To.IsZero() && iq.To != iq.From.Bare() {
		return nil, stanza.Errorf(stanza.Auth, stanza.Forbidden, "private XML belongs to its owner only")
	}
	children := iq.Payload.ChildElements()
	if len(children) == 0 {
		return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the query needs a child element in its own namespace")
	}
	for _, c := range children {
		if reserved(c.Space) {
			return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "namespace %q is reserved", c.Space)
		}
	}
	return children, nil
}

// get returns the stored fragment asked for, or the empty element.
func (m *Module) get(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	children, err := fragments(iq)
	if err != nil {
		return nil, err
	}
	if len(children) > 1 {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "ask for one namespace at a time")
	}
	want := children[0]
	owner := iq.From.Bare()
	q := stanza.New(NS, "query")
	rec, found, err := m.recs.Get(ctx, owner, name(want))
	if err != nil {
		return nil, fmt.Errorf("private: get %s of %s: %w", name(want), owner, err)
	}
	if !found {
		return q.Append(stanza.New(want.Space, want.Local)), nil
	}
	els, err := storage.DecodeElements(rec.Data)
	if err != nil {
		return nil, fmt.Errorf("private: stored %s of %s is unreadable: %w", name(want), owner, err)
	}
	return q.Append(els...), nil
}

// records groups fragments by element name, in order of first appearance,
// into the records they are stored as (one per {namespace}name).
func records(fragments []*stanza.Element) []storage.Record {
	var recs []storage.Record
	index := map[string]int{}
	var groups [][]*stanza.Element
	for _, c := range fragments {
		n := name(c)
		i, ok := index[n]
		if !ok {
			i = len(groups)
			index[n] = i
			groups = append(groups, nil)
			recs = append(recs, storage.Record{Name: n})
		}
		groups[i] = append(groups[i], c)
	}
	for i := range recs {
		recs[i].Data = storage.EncodeElements(groups[i]...)
	}
	return recs
}

// set stores the fragments of the query, each replacing what was stored
// under its name; fragments with the same name are stored together.
func (m *Module) set(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	children, err := fragments(iq)
	if err != nil {
		return nil, err
	}
	recs := records(children)
	for i := range recs {
		if len(recs[i].Data) > m.cfg.MaxBytes {
			return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "%s is %d bytes; at most %d are stored", recs[i].Name, len(recs[i].Data), m.cfg.MaxBytes)
		}
	}
	owner := iq.From.Bare()
	err = m.recs.Put(ctx, owner, recs, m.cfg.MaxItems)
	switch {
	case errors.Is(err, storage.ErrLimit):
		return nil, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "at most %d private XML fragments are stored per user", m.cfg.MaxItems)
	case err != nil:
		return nil, fmt.Errorf("private: set for %s: %w", owner, err)
	}
	if m.changed != nil {
		for _, c := range children {
			m.changed(ctx, owner, c)
		}
	}
	return nil, nil
}

var _ module.Registrar = (*Module)(nil)
