package presence

import (
	"context"
	"fmt"
	"math/bits"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// lastStore keeps the last unavailable presence of each account, in the
// database and, for a minute after each read or write, in memory (see
// lastCache).
type lastStore struct {
	db    *storage.DB
	put   string
	in    [bits.UintSize]atomic.Pointer[string] // inList's queries by log2 of the list's length
	cache lastCache
}

type lastPresence struct {
	el *stanza.Element
	at time.Time
}

func newLastStore(db *storage.DB) *lastStore {
	return &lastStore{
		db:  db,
		put: db.Upsert("presence_last", []string{"domain", "username"}, []string{"stanza", "stamp"}),
	}
}

// Put stores el as user's last unavailable presence.
func (l *lastStore) Put(ctx context.Context, user jid.JID, el *stanza.Element, at time.Time) error {
	stored := readdressed(el, "")
	if _, err := l.db.Exec(ctx, l.put, user.Domain(), user.Local(), storage.EncodeElements(stored), at.UnixMilli()); err != nil {
		l.cache.put(user, nil, time.Time{}) // unknown now: read it again
		return fmt.Errorf("presence: store last presence of %s: %w", user, err)
	}
	l.cache.put(user, stored.Copy(), time.UnixMilli(at.UnixMilli()))
	return nil
}

// maxQueryArgs bounds the IN list of one query.
const maxQueryArgs = 512

// Get returns the stored last unavailable presence of each of users that
// has one.
func (l *lastStore) Get(ctx context.Context, users []jid.JID) (map[jid.JID]lastPresence, error) {
	out := map[jid.JID]lastPresence{}
	var dec storage.ElementDecoder
	var missed []jid.JID
	for _, u := range users {
		e, ok := l.cache.get(u)
		switch {
		case !ok:
			missed = append(missed, u)
		case e.el != nil:
			out[u] = lastPresence{el: e.el.Copy(), at: e.at}
		}
	}
	if len(missed) == 0 {
		return out, nil
	}
	snap := l.cache.snapshot()
	byDomain := map[string][]string{}
	for _, u := range missed {
		byDomain[u.Domain()] = append(byDomain[u.Domain()], u.Local())
	}
	found := map[jid.JID]lastEntry{}
	for domain, locals := range byDomain {
		for len(locals) > 0 {
			n := min(len(locals), maxQueryArgs)
			if err := l.getChunk(ctx, &dec, domain, locals[:n], found); err != nil {
				return nil, err
			}
			locals = locals[n:]
		}
	}
	l.cache.fill(snap, missed, found)
	for u, e := range found {
		out[u] = lastPresence{el: e.el.Copy(), at: e.at}
	}
	return out, nil
}

// inList returns the query for an IN list of n (a power of two) names.
func (l *lastStore) inList(n int) string {
	k := bits.Len(uint(n)) - 1
	if q := l.in[k].Load(); q != nil {
		return *q
	}
	q := l.db.Rebind("SELECT username, stanza, stamp FROM presence_last WHERE domain = ? AND username IN (?" +
		strings.Repeat(", ?", n-1) + ")")
	l.in[k].Store(&q)
	return q
}

// getChunk reads the stored last presences of up to maxQueryArgs locals. The IN
// list is padded to a power of two by repeating the last name, so that
// only a few query texts exist and each is a cached prepared statement.
func (l *lastStore) getChunk(ctx context.Context, dec *storage.ElementDecoder, domain string, locals []string, out map[jid.JID]lastEntry) error {
	n := 1 << bits.Len(uint(len(locals)-1))
	args := make([]any, 0, n+1)
	args = append(args, domain)
	for _, lp := range locals {
		args = append(args, lp)
	}
	for len(args) < n+1 {
		args = append(args, locals[len(locals)-1])
	}
	rows, err := l.db.Query(ctx, l.inList(n), args...)
	if err != nil {
		return fmt.Errorf("presence: read last presence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var local string
		var data []byte
		var ms int64
		if err := rows.Scan(&local, &data, &ms); err != nil {
			return fmt.Errorf("presence: read last presence: %w", err)
		}
		els, err := dec.Decode(data)
		if err != nil || len(els) != 1 {
			continue // unreadable: as if none was stored
		}
		j, err := jid.New(local, domain, "")
		if err != nil {
			continue
		}
		out[j] = lastEntry{el: els[0], at: time.UnixMilli(ms)}
	}
	return rows.Err()
}
