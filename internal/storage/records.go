package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// ErrLimit is returned (wrapped) when a write would take a user past a
// limit the caller set: too many records or queue items.
var ErrLimit = errors.New("storage: per-user limit reached")

// Record is one named value of a user.
type Record struct {
	Name    string
	Data    []byte
	Updated time.Time // set by Put when zero
}

// Records is a per-user key-value store for one kind of data (a feature's
// name, e.g. "vcard"): each account has zero or more records of that kind,
// identified by name. It is the shape shared by vCards, private XML, block
// lists and last activity; the features own what the bytes mean.
type Records struct {
	db   *DB
	kind string
	q    struct{ get, list, count, put, del, delAll string }
}

// Records returns the record store of kind.
func (db *DB) Records(kind string) *Records {
	r := &Records{db: db, kind: kind}
	r.q.get = db.Rebind("SELECT data, updated_at FROM user_records WHERE domain = ? AND username = ? AND kind = ? AND name = ?")
	r.q.list = db.Rebind("SELECT name, data, updated_at FROM user_records WHERE domain = ? AND username = ? AND kind = ? ORDER BY name")
	r.q.count = db.Rebind("SELECT count(*) FROM user_records WHERE domain = ? AND username = ? AND kind = ?")
	r.q.put = db.Upsert("user_records", []string{"domain", "username", "kind", "name"}, []string{"data", "updated_at"})
	r.q.del = db.Rebind("DELETE FROM user_records WHERE domain = ? AND username = ? AND kind = ? AND name = ?")
	r.q.delAll = db.Rebind("DELETE FROM user_records WHERE domain = ? AND username = ? AND kind = ?")
	return r
}

// checkOwner accepts only bare JIDs with a localpart (accounts).
func checkOwner(user jid.JID) error {
	if user.Local() == "" || !user.IsBare() {
		return fmt.Errorf("storage: %q is not an account JID", user)
	}
	return nil
}

// Get returns the record name of user; found is false when there is none.
func (r *Records) Get(ctx context.Context, user jid.JID, name string) (rec Record, found bool, err error) {
	if err := checkOwner(user); err != nil {
		return Record{}, false, err
	}
	var ms int64
	err = r.db.QueryRow(ctx, r.q.get, user.Domain(), user.Local(), r.kind, name).Scan(&rec.Data, &ms)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Record{}, false, nil
	case err != nil:
		return Record{}, false, fmt.Errorf("storage: get %s record %q of %s: %w", r.kind, name, user, err)
	}
	rec.Name, rec.Updated = name, time.UnixMilli(ms)
	return rec, true, nil
}

// List returns every record of user, sorted by name.
func (r *Records) List(ctx context.Context, user jid.JID) ([]Record, error) {
	if err := checkOwner(user); err != nil {
		return nil, err
	}
	rows, err := r.db.Query(ctx, r.q.list, user.Domain(), user.Local(), r.kind)
	if err != nil {
		return nil, fmt.Errorf("storage: list %s records of %s: %w", r.kind, user, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var rec Record
		var ms int64
		if err := rows.Scan(&rec.Name, &rec.Data, &ms); err != nil {
			return nil, fmt.Errorf("storage: list %s records of %s: %w", r.kind, user, err)
		}
		rec.Updated = time.UnixMilli(ms)
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: list %s records of %s: %w", r.kind, user, err)
	}
	return out, nil
}

// Put writes recs (replacing records with the same names) in one
// transaction. With limit > 0, it fails with ErrLimit, writing nothing,
// if user would then have more than limit records of this kind.
func (r *Records) Put(ctx context.Context, user jid.JID, recs []Record, limit int) error {
	if err := checkOwner(user); err != nil {
		return err
	}
	now := time.Now()
	err := r.db.InTx(ctx, func(tx *sql.Tx) error {
		put, err := r.db.TxStmt(ctx, tx, r.q.put)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			at := rec.Updated
			if at.IsZero() {
				at = now
			}
			data := rec.Data
			if data == nil {
				data = []byte{} // the column is NOT NULL
			}
			if _, err := put.ExecContext(ctx, user.Domain(), user.Local(), r.kind, rec.Name, data, at.UnixMilli()); err != nil {
				return err
			}
		}
		if limit <= 0 {
			return nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, r.q.count, user.Domain(), user.Local(), r.kind).Scan(&n); err != nil {
			return err
		}
		if n > limit {
			return fmt.Errorf("%w (%d %s records, at most %d)", ErrLimit, n, r.kind, limit)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: put %s records of %s: %w", r.kind, user, err)
	}
	return nil
}

// Delete removes the named records of user in one transaction and
// returns how many existed.
func (r *Records) Delete(ctx context.Context, user jid.JID, names ...string) (int, error) {
	if err := checkOwner(user); err != nil {
		return 0, err
	}
	total := 0
	err := r.db.InTx(ctx, func(tx *sql.Tx) error {
		total = 0
		for _, name := range names {
			res, err := tx.ExecContext(ctx, r.q.del, user.Domain(), user.Local(), r.kind, name)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: delete %s records of %s: %w", r.kind, user, err)
	}
	return total, nil
}

// DeleteAll removes every record of this kind of user and returns how
// many there were.
func (r *Records) DeleteAll(ctx context.Context, user jid.JID) (int, error) {
	if err := checkOwner(user); err != nil {
		return 0, err
	}
	var n int64
	err := r.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, r.q.delAll, user.Domain(), user.Local(), r.kind)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storage: delete all %s records of %s: %w", r.kind, user, err)
	}
	return int(n), nil
}
