package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The archive's JIDs: every bare JID an archive row names is interned in
// archive_jids, so that the archive's indexes hold small integers instead
// of JID text (see migration 00014). Ids are never reused or removed, so a
// cached id stays right for the life of the database.

// maxCachedJIDs bounds the cache of interned JIDs; when it is full it
// starts over.
const maxCachedJIDs = 1 << 16

// ignoreDuplicate is the clause that makes an INSERT into archive_jids a
// no-op when the JID is there already.
func ignoreDuplicate(engine string) string {
	if engine == "mysql" {
		return "ON DUPLICATE KEY UPDATE jid = jid"
	}
	return "ON CONFLICT (jid) DO NOTHING"
}

func (a *Archive) cachedJID(j string) (int64, bool) {
	a.jids.Lock()
	defer a.jids.Unlock()
	id, ok := a.jids.m[j]
	return id, ok
}

func (a *Archive) cacheJIDs(ids map[string]int64) {
	a.jids.Lock()
	defer a.jids.Unlock()
	if len(a.jids.m)+len(ids) > maxCachedJIDs {
		clear(a.jids.m)
	}
	for j, id := range ids {
		a.jids.m[j] = id
	}
}

// querier is what a transaction and the database both offer.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// lookupJID returns the id of bare JID j, found false when no archive row
// ever named it.
func (a *Archive) lookupJID(ctx context.Context, q querier, j string) (id int64, found bool, err error) {
	if id, ok := a.cachedJID(j); ok {
		return id, true, nil
	}
	err = q.QueryRowContext(ctx, a.q.jidID, j).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("look up archive JID %s: %w", j, err)
	}
	a.cacheJIDs(map[string]int64{j: id})
	return id, true, nil
}

// internBatch returns the ids of every party of reqs' rows, interning the
// new ones first in a transaction of their own (so that the cache only
// ever holds committed ids).
func (a *Archive) internBatch(ctx context.Context, reqs []*appendReq) (map[string]int64, error) {
	ids := make(map[string]int64)
	var missing []string
	for _, r := range reqs {
		for _, row := range r.rows {
			for _, p := range row.party {
				if _, seen := ids[p]; seen {
					continue
				}
				id, ok := a.cachedJID(p)
				ids[p] = id
				if !ok {
					missing = append(missing, p)
				}
			}
		}
	}
	if len(missing) == 0 {
		return ids, nil
	}
	added, err := a.internTx(ctx, a.tx, missing)
	if err != nil {
		return nil, err
	}
	for j, id := range added {
		ids[j] = id
	}
	return ids, nil
}

// internTx interns jids in a transaction run by runTx and caches them once
// it committed.
func (a *Archive) internTx(ctx context.Context, runTx func(context.Context, func(*sql.Tx) error) error, jids []string) (map[string]int64, error) {
	added := make(map[string]int64, len(jids))
	err := runTx(ctx, func(tx *sql.Tx) error {
		for _, j := range jids {
			if _, err := tx.ExecContext(ctx, a.q.jidAdd, j); err != nil {
				return err
			}
			var id int64
			if err := tx.QueryRowContext(ctx, a.q.jidID, j).Scan(&id); err != nil {
				return err
			}
			added[j] = id
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("intern archive JIDs: %w", err)
	}
	a.cacheJIDs(added)
	return added, nil
}
