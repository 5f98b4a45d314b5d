package roster

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

// Version is a roster version (XEP-0237): a random epoch chosen when the
// account's first change is stored, and a counter bumped by every change.
type Version struct {
	Epoch string
	N     int64
}

func (v Version) String() string {
	if v.Epoch == "" {
		return "0"
	}
	return v.Epoch + "-" + strconv.FormatInt(v.N, 10)
}

// Store keeps rosters, versions and pending requests in the database. It
// is safe for concurrent use.
type Store struct {
	db *storage.DB
	q  struct {
		roster, item, itemGroups, putItem, putState, delItem, delGroups, addGroup,
		countItems, pendingOne, pendingAll, putPending, delPending, countPending,
		version, insVersion, updVersion string
	}
}

// NewStore returns the roster store over db.
func NewStore(db *storage.DB) *Store {
	s := &Store{db: db}
	r := db.Rebind
	// The owner is a one-row table so that the version comes with the
	// items, and with an empty roster too.
	s.q.roster = r(`SELECT v.epoch, v.version, i.contact, i.name, i.subscription, i.ask, i.approved, g.grp
FROM (SELECT ? AS domain, ? AS username) o
LEFT JOIN roster_versions v ON v.domain = o.domain AND v.username = o.username
LEFT JOIN roster_items i ON i.domain = o.domain AND i.username = o.username
LEFT JOIN roster_groups g ON g.domain = i.domain AND g.username = i.username AND g.contact = i.contact`)
	s.q.item = r("SELECT name, subscription, ask, approved FROM roster_items WHERE domain = ? AND username = ? AND contact = ?")
	s.q.itemGroups = r("SELECT grp FROM roster_groups WHERE domain = ? AND username = ? AND contact = ? ORDER BY grp")
	s.q.putItem = db.Upsert("roster_items", []string{"domain", "username", "contact"},
		[]string{"name", "subscription", "ask", "approved"})
	s.q.putState = db.Upsert("roster_items", []string{"domain", "username", "contact"},
		[]string{"subscription", "ask", "approved"})
	s.q.delItem = r("DELETE FROM roster_items WHERE domain = ? AND username = ? AND contact = ?")
	s.q.delGroups = r("DELETE FROM roster_groups WHERE domain = ? AND username = ? AND contact = ?")
	s.q.addGroup = r("INSERT INTO roster_groups (domain, username, contact, grp) VALUES (?, ?, ?, ?)")
	s.q.countItems = r("SELECT count(*) FROM roster_items WHERE domain = ? AND username = ?")
	s.q.pendingOne = r("SELECT 1 FROM roster_pending WHERE domain = ? AND username = ? AND contact = ?")
	s.q.pendingAll = r("SELECT contact, stanza, created_at FROM roster_pending WHERE domain = ? AND username = ? ORDER BY created_at, contact")
	s.q.putPending = db.Upsert("roster_pending", []string{"domain", "username", "contact"}, []string{"stanza", "created_at"})
	s.q.delPending = r("DELETE FROM roster_pending WHERE domain = ? AND username = ? AND contact = ?")
	s.q.countPending = r("SELECT count(*) FROM roster_pending WHERE domain = ? AND username = ?")
	s.q.version = r("SELECT epoch, version FROM roster_versions WHERE domain = ? AND username = ?")
	s.q.insVersion = r("INSERT INTO roster_versions (domain, username, epoch, version) VALUES (?, ?, ?, 1)")
	s.q.updVersion = r("UPDATE roster_versions SET version = version + 1 WHERE domain = ? AND username = ?")
	return s
}

// Load returns user's stored roster (without shared groups) and version,
// in one read through a cached prepared statement, as this runs at every
// bind. The map is nil for an empty roster; treat it as read-only.
func (s *Store) Load(ctx context.Context, user jid.JID) (map[jid.JID]*Item, Version, error) {
	items, v, err := s.load(ctx, user)
	if err != nil {
		return nil, Version{}, fmt.Errorf("roster: load %s: %w", user, err)
	}
	return items, v, nil
}

// load runs the rosterQuery: at least one row, carrying the version (NULL
// when none is stored), then a row per (item, group), or one with a NULL
// group for an item without groups, or one row with NULL item columns for
// an empty roster. Groups are sorted here, in byte order, whatever the
// engine's collation.
func (s *Store) load(ctx context.Context, user jid.JID) (map[jid.JID]*Item, Version, error) {
	rows, err := s.db.Query(ctx, s.q.roster, user.Domain(), user.Local())
	if err != nil {
		return nil, Version{}, err
	}
	defer rows.Close()
	var items map[jid.JID]*Item // nil for an empty roster: an online user with none keeps no map
	var v Version
	var last *Item
	var lastContact string
	// RawBytes (nil for NULL) keep the scan from allocating strings the
	// loop does not keep; contacts, epochs and group names are never empty.
	var epoch, contact, name, sub, grp sql.RawBytes
	var ver sql.NullInt64
	var ask, approved sql.NullBool
	for rows.Next() {
		if err := rows.Scan(&epoch, &ver, &contact, &name, &sub, &ask, &approved, &grp); err != nil {
			return nil, Version{}, err
		}
		if v.Epoch == "" && len(epoch) > 0 && ver.Valid {
			v = Version{Epoch: string(epoch), N: ver.Int64}
		}
		if contact == nil {
			continue // no items
		}
		if last == nil || string(contact) != lastContact {
			it, err := storedItem(string(contact), string(name), string(sub), ask.Bool, approved.Bool)
			if err != nil {
				return nil, Version{}, err
			}
			if last = items[it.JID]; last == nil { // rows of one item are usually adjacent
				last = it
				if items == nil {
					items = make(map[jid.JID]*Item)
				}
				items[it.JID] = it
			}
			lastContact = it.JID.String()
		}
		if grp != nil {
			last.Groups = append(last.Groups, string(grp))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, Version{}, err
	}
	for _, it := range items {
		if len(it.Groups) > 1 {
			slices.Sort(it.Groups)
		}
	}
	return items, v, nil
}

func storedItem(contact, name, sub string, ask, approved bool) (*Item, error) {
	j, err := jid.Parse(contact)
	if err != nil {
		return nil, fmt.Errorf("stored contact %q: %w", contact, err)
	}
	sb, ok := ParseSub(sub)
	if !ok {
		return nil, fmt.Errorf("stored subscription %q of %s", sub, contact)
	}
	return &Item{JID: j, Name: name, State: State{Sub: sb, PendingOut: ask, Approved: approved}}, nil
}

func readVersion(row *sql.Row) (Version, error) {
	var v Version
	err := row.Scan(&v.Epoch, &v.N)
	if errors.Is(err, sql.ErrNoRows) {
		return Version{}, nil
	}
	return v, err
}

// Pending returns user's stored inbound subscription requests, oldest
// first.
func (s *Store) Pending(ctx context.Context, user jid.JID) ([]Pending, error) {
	rows, err := s.db.Query(ctx, s.q.pendingAll, user.Domain(), user.Local())
	if err != nil {
		return nil, fmt.Errorf("roster: pending requests of %s: %w", user, err)
	}
	defer rows.Close()
	var out []Pending
	for rows.Next() {
		var contact string
		var p Pending
		var ms int64
		if err := rows.Scan(&contact, &p.Stanza, &ms); err != nil {
			return nil, fmt.Errorf("roster: pending requests of %s: %w", user, err)
		}
		if p.From, err = jid.Parse(contact); err != nil {
			return nil, fmt.Errorf("roster: pending request from %q: %w", contact, err)
		}
		p.At = time.UnixMilli(ms)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("roster: pending requests of %s: %w", user, err)
	}
	return out, nil
}

// State returns the subscription state of contact in user's stored roster
// (shared groups left aside) and whether an item exists.
func (s *Store) State(ctx context.Context, user, contact jid.JID) (State, bool, error) {
	var st State
	var found bool
	err := s.Update(ctx, func(tx *Tx) error {
		it, err := tx.Item(user, contact)
		if err != nil {
			return err
		}
		in, err := tx.PendingIn(user, contact)
		if err != nil {
			return err
		}
		found = it != nil
		if found {
			st = it.State
		}
		st.PendingIn = in
		return nil
	})
	return st, found, err
}

// Tx is a write transaction on the roster tables (see Store.Update).
type Tx struct {
	ctx context.Context
	tx  *sql.Tx
	s   *Store
}

// Update runs fn in one write transaction (storage.InTx: it may run more
// than once when the database is busy, so fn must have no other effects).
// Changes to several users' rosters made in fn commit or fail together.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		return fn(&Tx{ctx: ctx, tx: tx, s: s})
	})
}

// Item returns contact's item in user's roster, with its groups, or nil.
func (t *Tx) Item(user, contact jid.JID) (*Item, error) {
	var name, sub string
	var ask, approved bool
	err := t.tx.QueryRowContext(t.ctx, t.s.q.item, user.Domain(), user.Local(), contact.String()).
		Scan(&name, &sub, &ask, &approved)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("roster: item %s of %s: %w", contact, user, err)
	}
	it, err := storedItem(contact.String(), name, sub, ask, approved)
	if err != nil {
		return nil, fmt.Errorf("roster: item %s of %s: %w", contact, user, err)
	}
	rows, err := t.tx.QueryContext(t.ctx, t.s.q.itemGroups, user.Domain(), user.Local(), contact.String())
	if err != nil {
		return nil, fmt.Errorf("roster: groups of %s of %s: %w", contact, user, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("roster: groups of %s of %s: %w", contact, user, err)
		}
		it.Groups = append(it.Groups, g)
	}
	return it, rows.Err()
}

// PutItem stores it (name, groups and state) in user's roster.
func (t *Tx) PutItem(user jid.JID, it *Item) error {
	c := it.JID.String()
	if _, err := t.tx.ExecContext(t.ctx, t.s.q.putItem, user.Domain(), user.Local(), c,
		it.Name, it.State.Sub.String(), it.State.PendingOut, it.State.Approved); err != nil {
		return fmt.Errorf("roster: put %s of %s: %w", c, user, err)
	}
	if _, err := t.tx.ExecContext(t.ctx, t.s.q.delGroups, user.Domain(), user.Local(), c); err != nil {
		return fmt.Errorf("roster: put groups of %s of %s: %w", c, user, err)
	}
	for _, g := range it.Groups {
		if _, err := t.tx.ExecContext(t.ctx, t.s.q.addGroup, user.Domain(), user.Local(), c, g); err != nil {
			return fmt.Errorf("roster: put group of %s of %s: %w", c, user, err)
		}
	}
	return nil
}

// PutState stores the subscription state of contact in user's roster,
// creating the item (no name, no groups) if needed. st.PendingIn is not
// stored here (see PutPending).
func (t *Tx) PutState(user, contact jid.JID, st State) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.q.putState, user.Domain(), user.Local(), contact.String(),
		st.Sub.String(), st.PendingOut, st.Approved); err != nil {
		return fmt.Errorf("roster: put state of %s of %s: %w", contact, user, err)
	}
	return nil
}

// DeleteItem removes contact's item (and its groups) from user's roster.
func (t *Tx) DeleteItem(user, contact jid.JID) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.q.delItem, user.Domain(), user.Local(), contact.String()); err != nil {
		return fmt.Errorf("roster: delete %s of %s: %w", contact, user, err)
	}
	return nil
}

// CountItems returns the number of items in user's stored roster.
func (t *Tx) CountItems(user jid.JID) (int, error) {
	return t.count(t.s.q.countItems, user)
}

// CountPending returns the number of requests pending for user.
func (t *Tx) CountPending(user jid.JID) (int, error) {
	return t.count(t.s.q.countPending, user)
}

func (t *Tx) count(q string, user jid.JID) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, q, user.Domain(), user.Local()).Scan(&n); err != nil {
		return 0, fmt.Errorf("roster: count for %s: %w", user, err)
	}
	return n, nil
}

// PendingIn reports whether a request from contact is pending for user.
func (t *Tx) PendingIn(user, contact jid.JID) (bool, error) {
	var one int
	err := t.tx.QueryRowContext(t.ctx, t.s.q.pendingOne, user.Domain(), user.Local(), contact.String()).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("roster: pending %s for %s: %w", contact, user, err)
	}
	return true, nil
}

// PutPending stores the request from contact to user (the complete
// stanza, RFC 6121 §3.1.3).
func (t *Tx) PutPending(user, contact jid.JID, data []byte, at time.Time) error {
	if data == nil {
		data = []byte{} // no stanza kept: a plain request is delivered
	}
	if _, err := t.tx.ExecContext(t.ctx, t.s.q.putPending, user.Domain(), user.Local(), contact.String(),
		data, at.UnixMilli()); err != nil {
		return fmt.Errorf("roster: store request from %s to %s: %w", contact, user, err)
	}
	return nil
}

// DeletePending forgets the request from contact to user.
func (t *Tx) DeletePending(user, contact jid.JID) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.q.delPending, user.Domain(), user.Local(), contact.String()); err != nil {
		return fmt.Errorf("roster: drop request from %s to %s: %w", contact, user, err)
	}
	return nil
}

// Bump increments user's roster version and returns the new one.
func (t *Tx) Bump(user jid.JID) (Version, error) {
	v, err := readVersion(t.tx.QueryRowContext(t.ctx, t.s.q.version, user.Domain(), user.Local()))
	if err != nil {
		return Version{}, fmt.Errorf("roster: version of %s: %w", user, err)
	}
	if v.Epoch == "" {
		v = Version{Epoch: newEpoch(), N: 1}
		_, err = t.tx.ExecContext(t.ctx, t.s.q.insVersion, user.Domain(), user.Local(), v.Epoch)
	} else {
		v.N++
		_, err = t.tx.ExecContext(t.ctx, t.s.q.updVersion, user.Domain(), user.Local())
	}
	if err != nil {
		return Version{}, fmt.Errorf("roster: bump version of %s: %w", user, err)
	}
	return v, nil
}

func newEpoch() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// normalizeGroups sorts and checks groups; it reports a duplicate.
func normalizeGroups(groups []string) ([]string, bool) {
	g := slices.Clone(groups)
	slices.SortFunc(g, strings.Compare)
	for i := 1; i < len(g); i++ {
		if g[i] == g[i-1] {
			return nil, true
		}
	}
	return g, false
}
