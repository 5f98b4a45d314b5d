package roster

import (
	"context"
	"fmt"
	"slices"

	"github.com/parleyim/parley/internal/jid"
)

// SetSharedHook installs the function told about shared-group contacts an
// online user gained or lost (the presence module exchanges presence).
func (m *Module) SetSharedHook(h SharedHook) { m.onShared.Store(&h) }

// RefreshShared reads again what shared groups contribute to the rosters
// of users and, for each of them who is online, applies it at once: every
// contact that appeared, disappeared or changed groups is pushed to the
// user's interested resources (RFC 6121 §2.1.6), and the shared hook is
// told about contacts gained and lost. Offline users need nothing: their
// roster is read at their next login. Call it after changing shared groups
// with the members before and after the change.
func (m *Module) RefreshShared(ctx context.Context, users []jid.JID) error {
	seen := map[jid.JID]bool{}
	for _, u := range users {
		u = u.Bare()
		if seen[u] {
			continue
		}
		seen[u] = true
		if err := m.refreshOne(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

func (m *Module) refreshOne(ctx context.Context, user jid.JID) error {
	if m.Cached(user) == nil {
		return nil
	}
	shared, err := m.sharedOf(ctx, user)
	if err != nil {
		return fmt.Errorf("roster: refresh shared groups of %s: %w", user, err)
	}
	m.wmu.Lock()
	m.mu.Lock()
	e := m.cache[user]
	if e == nil { // went offline meanwhile
		m.mu.Unlock()
		m.wmu.Unlock()
		return nil
	}
	old := e.view.shared
	e.view = e.view.withShared(shared)
	m.mu.Unlock()
	m.pmu.Lock()
	m.wmu.Unlock()
	added, removed, changed := diffShared(old, shared)
	for _, c := range slices.Concat(added, removed, changed) {
		m.push(ctx, change{user: user, contact: c}, Version{})
	}
	m.pmu.Unlock()
	if h := m.onShared.Load(); h != nil {
		for _, c := range added {
			(*h)(ctx, user, c, true)
		}
		for _, c := range removed {
			(*h)(ctx, user, c, false)
		}
	}
	return nil
}

// diffShared compares two shared-contact maps: contacts only in b
// (added), only in a (removed), and in both with other groups (changed),
// each sorted.
func diffShared(a, b map[jid.JID][]string) (added, removed, changed []jid.JID) {
	for j, g := range b {
		og, ok := a[j]
		switch {
		case !ok:
			added = append(added, j)
		case !slices.Equal(og, g):
			changed = append(changed, j)
		}
	}
	for j := range a {
		if _, ok := b[j]; !ok {
			removed = append(removed, j)
		}
	}
	for _, s := range [][]jid.JID{added, removed, changed} {
		slices.SortFunc(s, jid.JID.Compare)
	}
	return added, removed, changed
}
