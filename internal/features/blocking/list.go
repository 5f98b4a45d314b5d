package blocking

import (
	"slices"
	"strings"

	"github.com/parleyim/parley/internal/jid"
)

// key is a blocked address as its three parts, so that the matching rules
// can probe parts without building JIDs.
type key struct{ local, domain, resource string }

func keyOf(j jid.JID) key { return key{j.Local(), j.Domain(), j.Resource()} }

// list is one user's block list. It is immutable once built: changes
// build a new list and swap it into the cache.
type list struct {
	set   map[key]struct{}
	items []jid.JID // sorted
}

var emptyList = &list{}

func newList(items []jid.JID) *list {
	if len(items) == 0 {
		return emptyList
	}
	l := &list{set: make(map[key]struct{}, len(items)), items: slices.Clone(items)}
	slices.SortFunc(l.items, jid.JID.Compare)
	l.items = slices.Compact(l.items)
	for _, j := range l.items {
		l.set[keyOf(j)] = struct{}{}
	}
	return l
}

func (l *list) has(k key) bool {
	_, ok := l.set[k]
	return ok
}

// matches applies XEP-0191 §3.1 (the XEP-0016 order) to j: the full JID,
// the bare JID, domain/resource, then the domain and each domain it is a
// subdomain of.
func (l *list) matches(j jid.JID) bool {
	if l == nil || len(l.set) == 0 || j.IsZero() {
		return false
	}
	local, domain, res := j.Local(), j.Domain(), j.Resource()
	if l.has(key{local, domain, res}) || l.has(key{local, domain, ""}) || l.has(key{"", domain, res}) {
		return true
	}
	for d := domain; ; {
		if l.has(key{"", d, ""}) {
			return true
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return false
		}
		d = d[i+1:]
	}
}

// with returns a list with add added.
func (l *list) with(add []jid.JID) *list {
	return newList(append(slices.Clone(l.items), add...))
}

// without returns a list with remove removed.
func (l *list) without(remove []jid.JID) *list {
	drop := newList(remove)
	var keep []jid.JID
	for _, j := range l.items {
		if !drop.has(keyOf(j)) {
			keep = append(keep, j)
		}
	}
	return newList(keep)
}
