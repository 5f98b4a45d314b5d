package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// Item is one entry of a Queue.
type Item struct {
	ID      int64 // increasing in the order of Push
	Created time.Time
	Data    []byte
}

// Queue is an append-only, ordered, per-user queue for one kind of data
// (a feature's name, e.g. "offline"): Push appends at the end, Peek reads
// from the front, Remove drops a delivered prefix. The features own what
// the bytes mean.
type Queue struct {
	db   *DB
	kind string
	q    struct{ count, push, peek, peekN string }
}

// Queue returns the queue store of kind.
func (db *DB) Queue(kind string) *Queue {
	q := &Queue{db: db, kind: kind}
	q.q.count = db.Rebind("SELECT count(*) FROM user_queues WHERE domain = ? AND username = ? AND kind = ?")
	q.q.push = db.Rebind("INSERT INTO user_queues (domain, username, kind, created_at, data) VALUES (?, ?, ?, ?, ?)")
	q.q.peek = db.Rebind("SELECT id, created_at, data FROM user_queues WHERE domain = ? AND username = ? AND kind = ? ORDER BY id")
	q.q.peekN = db.Rebind("SELECT id, created_at, data FROM user_queues WHERE domain = ? AND username = ? AND kind = ? ORDER BY id LIMIT ?")
	return q
}

// Push appends data to user's queue; it is committed when Push returns
// nil. With limit > 0 it fails with ErrLimit, storing nothing, when the
// queue already holds limit items.
func (q *Queue) Push(ctx context.Context, user jid.JID, data []byte, created time.Time, limit int) error {
	if err := checkOwner(user); err != nil {
		return err
	}
	err := q.db.InTx(ctx, func(tx *sql.Tx) error {
		// Concurrent pushes to one queue take their IDs in turn, so that
		// IDs increase in commit order and Remove(upTo) after a Peek never
		// drops an item that committed later with a smaller ID.
		if err := q.db.lockOwner(ctx, tx, user.Domain(), user.Local()); err != nil {
			return err
		}
		if limit > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, q.q.count, user.Domain(), user.Local(), q.kind).Scan(&n); err != nil {
				return err
			}
			if n >= limit {
				return fmt.Errorf("%w (%d %s items)", ErrLimit, n, q.kind)
			}
		}
		_, err := tx.ExecContext(ctx, q.q.push, user.Domain(), user.Local(), q.kind, created.UnixMilli(), data)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: push to %s queue of %s: %w", q.kind, user, err)
	}
	return nil
}

// Peek returns up to max items from the front of user's queue, oldest
// first (every item when max <= 0). It removes nothing.
func (q *Queue) Peek(ctx context.Context, user jid.JID, max int) ([]Item, error) {
	if err := checkOwner(user); err != nil {
		return nil, err
	}
	var rows *sql.Rows
	var err error
	if max > 0 {
		rows, err = q.db.Query(ctx, q.q.peekN, user.Domain(), user.Local(), q.kind, max)
	} else {
		rows, err = q.db.Query(ctx, q.q.peek, user.Domain(), user.Local(), q.kind)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: peek %s queue of %s: %w", q.kind, user, err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var ms int64
		if err := rows.Scan(&it.ID, &ms, &it.Data); err != nil {
			return nil, fmt.Errorf("storage: peek %s queue of %s: %w", q.kind, user, err)
		}
		it.Created = time.UnixMilli(ms)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: peek %s queue of %s: %w", q.kind, user, err)
	}
	return out, nil
}

// removeChunk bounds the IDs of one DELETE (every engine takes far more
// parameters than this).
const removeChunk = 500

// Remove drops the items with the given IDs (items a reader peeked and is
// done with) from user's queue, and returns how many it removed. It takes
// IDs, not "everything up to": a Push that commits after a Peek with an ID
// smaller than one the Peek returned (MariaDB has been seen to make
// serialised commits visible out of order) stays for the next Peek instead
// of being removed unseen.
func (q *Queue) Remove(ctx context.Context, user jid.JID, ids []int64) (int, error) {
	if err := checkOwner(user); err != nil {
		return 0, err
	}
	var n int64
	err := q.db.InTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), removeChunk)]
			ids = ids[len(chunk):]
			m, err := q.removeIDs(ctx, tx, user, chunk)
			if err != nil {
				return err
			}
			n += m
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: remove from %s queue of %s: %w", q.kind, user, err)
	}
	return int(n), nil
}

func (q *Queue) removeIDs(ctx context.Context, tx *sql.Tx, user jid.JID, ids []int64) (int64, error) {
	query := "DELETE FROM user_queues WHERE domain = ? AND username = ? AND kind = ? AND id IN (?" +
		strings.Repeat(", ?", len(ids)-1) + ")"
	args := make([]any, 0, 3+len(ids))
	args = append(args, user.Domain(), user.Local(), q.kind)
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := tx.ExecContext(ctx, q.db.Rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Len returns the number of items in user's queue.
func (q *Queue) Len(ctx context.Context, user jid.JID) (int, error) {
	if err := checkOwner(user); err != nil {
		return 0, err
	}
	var n int
	if err := q.db.QueryRow(ctx, q.q.count, user.Domain(), user.Local(), q.kind).Scan(&n); err != nil {
		return 0, fmt.Errorf("storage: length of %s queue of %s: %w", q.kind, user, err)
	}
	return n, nil
}
