package mam

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Preference defaults (XEP-0313 §6.1).
const (
	prefAlways = "always"
	prefRoster = "roster"
	prefNever  = "never"
)

// recordKind names the preferences in the record store.
const recordKind = "mam-prefs"

// maxPrefJIDs bounds each of the always and never lists.
const maxPrefJIDs = 1000

// prefs are one user's archiving preferences.
type prefs struct {
	Default       string
	Always, Never []jid.JID
	stored        bool // the user set them (else they are the default)
}

// matches reports whether contact is in list: a bare JID there matches
// every resource of it, a full JID only itself (§6.1.1).
func (p prefs) matches(list []jid.JID, contact jid.JID) bool {
	for _, j := range list {
		if j == contact || (j.IsBare() && j == contact.Bare()) {
			return true
		}
	}
	return false
}

// element renders p as <prefs/>.
func (p prefs) element() *stanza.Element {
	el := stanza.New(NS, "prefs").SetAttr("default", p.Default)
	for _, l := range []struct {
		name string
		jids []jid.JID
	}{{"always", p.Always}, {"never", p.Never}} {
		list := stanza.New(NS, l.name)
		for _, j := range l.jids {
			list.Append(stanza.New(NS, "jid").AppendText(j.String()))
		}
		el.Append(list)
	}
	return el
}

// parsePrefs reads a <prefs/> element (a set, or a stored record).
func parsePrefs(el *stanza.Element) (prefs, error) {
	p := prefs{Default: el.Attr("default")}
	switch p.Default {
	case prefAlways, prefRoster, prefNever:
	default:
		return prefs{}, stanza.Errorf(stanza.Modify, stanza.BadRequest, "default must be always, roster or never, not %q", p.Default)
	}
	for _, c := range el.ChildElements() {
		if c.Space != NS || (c.Local != "always" && c.Local != "never") {
			return prefs{}, stanza.Errorf(stanza.Modify, stanza.BadRequest, "unknown element <%s/> in prefs", c.Local)
		}
		for _, je := range c.ChildElements() {
			j, err := jid.Parse(je.Text())
			if je.Local != "jid" || err != nil {
				return prefs{}, stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "bad JID %q in prefs", je.Text())
			}
			if c.Local == "always" {
				p.Always = append(p.Always, j)
			} else {
				p.Never = append(p.Never, j)
			}
		}
	}
	if len(p.Always) > maxPrefJIDs || len(p.Never) > maxPrefJIDs {
		return prefs{}, stanza.Errorf(stanza.Modify, stanza.ResourceConstraint, "at most %d JIDs in each list", maxPrefJIDs)
	}
	slices.SortFunc(p.Always, cmpJID)
	slices.SortFunc(p.Never, cmpJID)
	p.Always, p.Never = slices.Compact(p.Always), slices.Compact(p.Never)
	return p, nil
}

func cmpJID(a, b jid.JID) int {
	switch as, bs := a.String(), b.String(); {
	case as < bs:
		return -1
	case as > bs:
		return 1
	}
	return 0
}

// maxCachedPrefs bounds the preference cache; past it the cache starts
// over (a miss costs one indexed read).
const maxCachedPrefs = 65536

// prefStore keeps preferences in the record store, cached, since every
// archived message asks for both parties'.
type prefStore struct {
	recs *storage.Records
	def  string
	mu   sync.RWMutex
	m    map[jid.JID]prefs
	gen  uint64 // counts puts: a load that raced one is not cached
}

func newPrefStore(db *storage.DB, def string) *prefStore {
	if def == "" {
		def = prefAlways
	}
	return &prefStore{recs: db.Records(recordKind), def: def, m: map[jid.JID]prefs{}}
}

func (s *prefStore) get(ctx context.Context, owner jid.JID) (prefs, error) {
	s.mu.RLock()
	p, ok := s.m[owner]
	gen := s.gen
	s.mu.RUnlock()
	if ok {
		return p, nil
	}
	p, err := s.load(ctx, owner)
	if err != nil {
		return prefs{}, err
	}
	s.remember(owner, p, gen)
	return p, nil
}

func (s *prefStore) load(ctx context.Context, owner jid.JID) (prefs, error) {
	rec, found, err := s.recs.Get(ctx, owner, "")
	if err != nil || !found {
		return prefs{Default: s.def}, err
	}
	var dec storage.ElementDecoder
	els, err := dec.Decode(rec.Data)
	if err != nil || len(els) != 1 {
		return prefs{}, fmt.Errorf("stored preferences of %s unreadable: %v", owner, err)
	}
	p, err := parsePrefs(els[0])
	p.stored = true
	return p, err
}

func (s *prefStore) remember(owner jid.JID, p prefs, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen {
		return
	}
	if len(s.m) >= maxCachedPrefs {
		clear(s.m)
	}
	s.m[owner] = p
}

func (s *prefStore) put(ctx context.Context, owner jid.JID, p prefs) error {
	err := s.recs.Put(ctx, owner, []storage.Record{{Data: storage.EncodeElements(p.element())}}, 0)
	s.mu.Lock()
	delete(s.m, owner) // reloaded on next use, whatever the outcome
	s.gen++
	s.mu.Unlock()
	return err
}

// owner checks that an iq concerns the sender's own archive and returns
// the sender's session (forbidden otherwise, §4: a user may query only
// their own archive).
func (m *Module) owner(iq stanza.IQ) (jid.JID, module.Session, error) {
	user := iq.From.Bare()
	if !iq.To.IsZero() && iq.To.Bare() != user {
		return jid.JID{}, nil, stanza.Errorf(stanza.Auth, stanza.Forbidden, "only the owner may use an archive")
	}
	s := m.cfg.Host.Session(iq.From)
	if s == nil || !m.cfg.Host.IsLocal(user.Domain()) {
		return jid.JID{}, nil, stanza.Errorf(stanza.Auth, stanza.Forbidden, "only local users have archives")
	}
	return user, s, nil
}

func (m *Module) getPrefs(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	user, _, err := m.owner(iq)
	if err != nil {
		return nil, err
	}
	p, err := m.prefs.get(ctx, user)
	if err != nil {
		return nil, err
	}
	return p.element(), nil
}

func (m *Module) setPrefs(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	user, _, err := m.owner(iq)
	if err != nil {
		return nil, err
	}
	p, err := parsePrefs(iq.Payload)
	if err != nil {
		return nil, err
	}
	if err := m.prefs.put(ctx, user, p); err != nil {
		return nil, fmt.Errorf("mam: store preferences of %s: %w", user, err)
	}
	return p.element(), nil
}
