package roster

import (
	"encoding/hex"
	"hash/fnv"
	"maps"
	"slices"

	"github.com/parleyim/parley/internal/jid"
)

func newView(user jid.JID, items map[jid.JID]*Item, v Version, shared map[jid.JID][]string) *View {
	if items == nil {
		items = map[jid.JID]*Item{}
	}
	return &View{user: user, items: items, shared: shared, base: v, sharedTag: sharedTag(shared)}
}

// sharedTag hashes what shared groups contribute, so that a change made by
// an administrator changes the roster version.
func sharedTag(shared map[jid.JID][]string) string {
	if len(shared) == 0 {
		return ""
	}
	h := fnv.New64a()
	for _, j := range slices.SortedFunc(maps.Keys(shared), jid.JID.Compare) {
		h.Write([]byte(j.String()))
		for _, g := range shared[j] {
			h.Write([]byte{0})
			h.Write([]byte(g))
		}
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// User is the roster's owner.
func (v *View) User() jid.JID { return v.user }

// Version is the roster version string (XEP-0237).
func (v *View) Version() string {
	if v.sharedTag == "" {
		return v.base.String()
	}
	return v.base.String() + "-" + v.sharedTag
}

// Len is the number of items the user sees.
func (v *View) Len() int {
	n := len(v.items)
	for j := range v.shared {
		if _, ok := v.items[j]; !ok {
			n++
		}
	}
	return n
}

// Sub returns the effective subscription of contact (both for a shared
// group contact), and whether contact is in the roster at all.
func (v *View) Sub(contact jid.JID) (Sub, bool) {
	if _, ok := v.shared[contact]; ok {
		return SubBoth, true
	}
	if it, ok := v.items[contact]; ok {
		return it.State.Sub, true
	}
	return SubNone, false
}

// IsShared reports whether contact comes from a shared group.
func (v *View) IsShared(contact jid.JID) bool {
	_, ok := v.shared[contact]
	return ok
}

// Range calls fn with every contact and its effective subscription, in no
// particular order, until fn returns false. It does not allocate.
func (v *View) Range(fn func(contact jid.JID, sub Sub) bool) {
	for j, it := range v.items {
		sub := it.State.Sub
		if _, ok := v.shared[j]; ok {
			sub = SubBoth
		}
		if !fn(j, sub) {
			return
		}
	}
	for j := range v.shared {
		if _, ok := v.items[j]; ok {
			continue
		}
		if !fn(j, SubBoth) {
			return
		}
	}
}

// Lookup returns contact's item as the user sees it.
func (v *View) Lookup(contact jid.JID) (Item, bool) {
	it, stored := v.items[contact]
	groups, shared := v.shared[contact]
	switch {
	case shared && stored:
		m := *it
		m.Groups = mergeGroups(it.Groups, groups)
		m.State = State{Sub: SubBoth}
		m.Shared = true
		return m, true
	case shared:
		return Item{JID: contact, Groups: groups, State: State{Sub: SubBoth}, Shared: true}, true
	case stored:
		return *it, true
	}
	return Item{}, false
}

func mergeGroups(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// Items returns every item the user sees, sorted by JID.
func (v *View) Items() []Item {
	out := make([]Item, 0, v.Len())
	v.Range(func(j jid.JID, _ Sub) bool {
		it, _ := v.Lookup(j)
		out = append(out, it)
		return true
	})
	slices.SortFunc(out, func(a, b Item) int { return a.JID.Compare(b.JID) })
	return out
}

// with returns a copy of v with contact's stored item replaced (nil:
// removed) and the version set.
func (v *View) with(contact jid.JID, it *Item, ver Version) *View {
	items := maps.Clone(v.items)
	if it == nil {
		delete(items, contact)
	} else {
		if items == nil {
			items = make(map[jid.JID]*Item, 1)
		}
		items[contact] = it
	}
	return &View{user: v.user, items: items, shared: v.shared, base: ver, sharedTag: v.sharedTag}
}

// withShared returns a copy of v with new shared-group contacts.
func (v *View) withShared(shared map[jid.JID][]string) *View {
	return &View{user: v.user, items: v.items, shared: shared, base: v.base, sharedTag: sharedTag(shared)}
}
