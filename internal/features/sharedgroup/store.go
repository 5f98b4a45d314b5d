package sharedgroup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

// Errors, wrapped by the Store's methods.
var (
	ErrExists       = errors.New("sharedgroup: group already exists")
	ErrNotFound     = errors.New("sharedgroup: no such group")
	ErrNoAccount    = errors.New("sharedgroup: no such account")
	ErrInvalidName  = errors.New("sharedgroup: invalid group name")
	ErrInvalidJID   = errors.New("sharedgroup: members are local accounts (user@domain)")
	errNameTooLong  = fmt.Errorf("%w: longer than %d bytes", ErrInvalidName, MaxNameBytes)
	errControlChars = fmt.Errorf("%w: control characters or invalid UTF-8", ErrInvalidName)
)

// MaxNameBytes bounds group names and display names.
const MaxNameBytes = 256

// Group is a shared group and its members.
type Group struct {
	Name    string
	Display string // shown as the roster group name
	Members []jid.JID
}

// Store keeps shared groups in the database. It is safe for concurrent use
// by several processes (the server and the CLI).
type Store struct {
	db *storage.DB
	q  struct {
		exists, create, del, addMember, delMember, list, members, accountExists, contacts, display string
	}
}

// NewStore returns the shared group store over db.
func NewStore(db *storage.DB) *Store {
	s := &Store{db: db}
	r := db.Rebind
	s.q.exists = r("SELECT display FROM shared_groups WHERE name = ?")
	s.q.create = r("INSERT INTO shared_groups (name, display, created_at) VALUES (?, ?, ?)")
	s.q.del = r("DELETE FROM shared_groups WHERE name = ?")
	s.q.display = r("UPDATE shared_groups SET display = ? WHERE name = ?")
	s.q.addMember = db.Upsert("shared_group_members", []string{"grp", "domain", "username"}, nil)
	s.q.delMember = r("DELETE FROM shared_group_members WHERE grp = ? AND domain = ? AND username = ?")
	s.q.list = r("SELECT name, display FROM shared_groups ORDER BY name")
	s.q.members = r("SELECT grp, username, domain FROM shared_group_members ORDER BY grp, domain, username")
	s.q.accountExists = r("SELECT 1 FROM accounts WHERE domain = ? AND username = ?")
	s.q.contacts = r(`SELECT o.username, o.domain, g.display
FROM shared_group_members m
JOIN shared_group_members o ON o.grp = m.grp AND NOT (o.domain = m.domain AND o.username = m.username)
JOIN shared_groups g ON g.name = m.grp
WHERE m.domain = ? AND m.username = ?`)
	return s
}

// CheckName validates a group or display name: 1 to MaxNameBytes bytes of
// UTF-8 without control characters, not only white space.
func CheckName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case len(name) > MaxNameBytes:
		return errNameTooLong
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return errControlChars
	}
	return nil
}

// Create adds an empty group; display "" means the name itself.
func (s *Store) Create(ctx context.Context, name, display string) error {
	if display == "" {
		display = name
	}
	for _, n := range []string{name, display} {
		if err := CheckName(n); err != nil {
			return fmt.Errorf("sharedgroup: create %q: %w", name, err)
		}
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if found, err := s.groupExists(ctx, tx, name); err != nil {
			return err
		} else if found {
			return ErrExists
		}
		_, err := tx.ExecContext(ctx, s.q.create, name, display, time.Now().Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("sharedgroup: create %q: %w", name, err)
	}
	return nil
}

func (s *Store) groupExists(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	var display string
	err := tx.QueryRowContext(ctx, s.q.exists, name).Scan(&display)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Delete removes a group and its memberships.
func (s *Store) Delete(ctx context.Context, name string) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.del, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sharedgroup: delete %q: %w", name, err)
	}
	return nil
}

// SetDisplay changes the name members see as the roster group.
func (s *Store) SetDisplay(ctx context.Context, name, display string) error {
	if err := CheckName(display); err != nil {
		return fmt.Errorf("sharedgroup: rename %q: %w", name, err)
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if found, err := s.groupExists(ctx, tx, name); err != nil {
			return err
		} else if !found {
			return ErrNotFound
		}
		_, err := tx.ExecContext(ctx, s.q.display, display, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("sharedgroup: rename %q: %w", name, err)
	}
	return nil
}

func checkMember(j jid.JID) error {
	if j.Local() == "" || !j.IsBare() {
		return fmt.Errorf("%w: %q", ErrInvalidJID, j)
	}
	return nil
}

// AddMembers adds accounts to a group (members already in it stay), all
// or none.
func (s *Store) AddMembers(ctx context.Context, name string, members []jid.JID) error {
	for _, m := range members {
		if err := checkMember(m); err != nil {
			return fmt.Errorf("sharedgroup: add to %q: %w", name, err)
		}
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if found, err := s.groupExists(ctx, tx, name); err != nil {
			return err
		} else if !found {
			return ErrNotFound
		}
		for _, m := range members {
			var one int
			err := tx.QueryRowContext(ctx, s.q.accountExists, m.Domain(), m.Local()).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: %s", ErrNoAccount, m)
			} else if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q.addMember, name, m.Domain(), m.Local()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sharedgroup: add to %q: %w", name, err)
	}
	return nil
}

// RemoveMembers removes accounts from a group and returns how many were
// members.
func (s *Store) RemoveMembers(ctx context.Context, name string, members []jid.JID) (int, error) {
	removed := 0
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		removed = 0
		if found, err := s.groupExists(ctx, tx, name); err != nil {
			return err
		} else if !found {
			return ErrNotFound
		}
		for _, m := range members {
			res, err := tx.ExecContext(ctx, s.q.delMember, name, m.Domain(), m.Local())
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			removed += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sharedgroup: remove from %q: %w", name, err)
	}
	return removed, nil
}

// List returns every group with its members, sorted by name.
func (s *Store) List(ctx context.Context) ([]Group, error) {
	rows, err := s.db.SQL().QueryContext(ctx, s.q.list)
	if err != nil {
		return nil, fmt.Errorf("sharedgroup: list: %w", err)
	}
	defer rows.Close()
	var out []Group
	idx := map[string]int{}
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.Name, &g.Display); err != nil {
			return nil, fmt.Errorf("sharedgroup: list: %w", err)
		}
		idx[g.Name] = len(out)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sharedgroup: list: %w", err)
	}
	rows.Close()
	mrows, err := s.db.SQL().QueryContext(ctx, s.q.members)
	if err != nil {
		return nil, fmt.Errorf("sharedgroup: list members: %w", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var grp, local, domain string
		if err := mrows.Scan(&grp, &local, &domain); err != nil {
			return nil, fmt.Errorf("sharedgroup: list members: %w", err)
		}
		j, err := jid.New(local, domain, "")
		if err != nil {
			return nil, fmt.Errorf("sharedgroup: stored member %s@%s: %w", local, domain, err)
		}
		if i, ok := idx[grp]; ok {
			out[i].Members = append(out[i].Members, j)
		}
	}
	return out, mrows.Err()
}

// Get returns one group.
func (s *Store) Get(ctx context.Context, name string) (Group, error) {
	all, err := s.List(ctx)
	if err != nil {
		return Group{}, err
	}
	for _, g := range all {
		if g.Name == name {
			return g, nil
		}
	}
	return Group{}, fmt.Errorf("sharedgroup: get %q: %w", name, ErrNotFound)
}

// ContactsOf returns the accounts user shares a group with, each with the
// sorted display names of the groups they share. The user is not among
// them.
func (s *Store) ContactsOf(ctx context.Context, user jid.JID) (map[jid.JID][]string, error) {
	rows, err := s.db.Query(ctx, s.q.contacts, user.Domain(), user.Local())
	if err != nil {
		return nil, fmt.Errorf("sharedgroup: contacts of %s: %w", user, err)
	}
	defer rows.Close()
	var out map[jid.JID][]string
	for rows.Next() {
		var local, domain, display string
		if err := rows.Scan(&local, &domain, &display); err != nil {
			return nil, fmt.Errorf("sharedgroup: contacts of %s: %w", user, err)
		}
		j, err := jid.New(local, domain, "")
		if err != nil {
			return nil, fmt.Errorf("sharedgroup: stored member %s@%s: %w", local, domain, err)
		}
		if out == nil {
			out = make(map[jid.JID][]string)
		}
		if !slices.Contains(out[j], display) {
			out[j] = append(out[j], display)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sharedgroup: contacts of %s: %w", user, err)
	}
	for _, g := range out {
		slices.Sort(g)
	}
	return out, nil
}
