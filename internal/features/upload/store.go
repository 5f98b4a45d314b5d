package upload

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

// ErrNoSlot is returned (wrapped) for a slot that does not exist.
var ErrNoSlot = errors.New("upload: no such slot")

// Slot is one upload slot as the database keeps it (migration 00011).
type Slot struct {
	ID          string
	Owner       jid.JID // bare
	Filename    string
	Size        int64
	ContentType string // "" when the client named none
	Created     time.Time
	PutBefore   time.Time // the PUT must come before this
	Expires     time.Time // the file is deleted after this
	Uploaded    time.Time // zero until the PUT succeeded
}

// Usage is what one account keeps: files and open slots, and their bytes.
type Usage struct {
	Owner jid.JID
	Files int64 // uploaded files
	Slots int64 // slots not used yet
	Bytes int64 // bytes of both
}

// Store keeps the upload_slots table.
type Store struct {
	db *storage.DB
	q  struct{ insert, get, done, del, usage, all, expired string }
}

// NewStore returns the slot store over db.
func NewStore(db *storage.DB) *Store {
	s := &Store{db: db}
	const cols = "slot, domain, username, filename, size, content_type, created_at, put_before, expires_at, uploaded_at"
	s.q.insert = db.Rebind("INSERT INTO upload_slots (" + cols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)")
	s.q.get = db.Rebind("SELECT " + cols + " FROM upload_slots WHERE slot = ?")
	s.q.done = db.Rebind("UPDATE upload_slots SET uploaded_at = ? WHERE slot = ? AND uploaded_at = 0 AND put_before > ?")
	s.q.del = db.Rebind("DELETE FROM upload_slots WHERE slot = ?")
	// Usage counts what is not gone yet: files not expired, slots still open.
	live := "(uploaded_at > 0 AND expires_at > ?) OR (uploaded_at = 0 AND put_before > ?)"
	s.q.usage = db.Rebind("SELECT COALESCE(SUM(CASE WHEN uploaded_at > 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN uploaded_at = 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(size), 0) FROM upload_slots WHERE domain = ? AND username = ? AND (" + live + ")")
	s.q.all = db.Rebind("SELECT domain, username, SUM(CASE WHEN uploaded_at > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN uploaded_at = 0 THEN 1 ELSE 0 END), SUM(size) FROM upload_slots WHERE " + live + " GROUP BY domain, username ORDER BY domain, username")
	s.q.expired = db.Rebind("SELECT " + cols + " FROM upload_slots WHERE expires_at <= ? OR (uploaded_at = 0 AND put_before <= ?) ORDER BY expires_at LIMIT ?")
	return s
}

// Create stores sl unless the owner's usage plus sl.Size would pass quota
// bytes (0: no quota); then it returns storage.ErrLimit (wrapped). The
// check and the insert are one transaction, with the owner locked.
func (s *Store) Create(ctx context.Context, sl Slot, quota int64) error {
	o := sl.Owner
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.db.LockOwner(ctx, tx, o.Domain(), o.Local()); err != nil {
			return err
		}
		if quota > 0 {
			u, err := s.usage(ctx, tx, o, sl.Created)
			if err != nil {
				return err
			}
			if u.Bytes+sl.Size > quota {
				return storage.ErrLimit
			}
		}
		_, err := tx.ExecContext(ctx, s.q.insert, sl.ID, o.Domain(), o.Local(), sl.Filename, sl.Size, sl.ContentType,
			sl.Created.UnixMilli(), sl.PutBefore.UnixMilli(), sl.Expires.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("upload: store slot of %s: %w", o, err)
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) usage(ctx context.Context, q queryer, owner jid.JID, now time.Time) (Usage, error) {
	u := Usage{Owner: owner}
	ms := now.UnixMilli()
	err := q.QueryRowContext(ctx, s.q.usage, owner.Domain(), owner.Local(), ms, ms).Scan(&u.Files, &u.Slots, &u.Bytes)
	return u, err
}

// Usage returns what owner keeps now.
func (s *Store) Usage(ctx context.Context, owner jid.JID) (Usage, error) {
	u, err := s.usage(ctx, s.db.SQL(), owner, time.Now())
	if err != nil {
		return u, fmt.Errorf("upload: usage of %s: %w", owner, err)
	}
	return u, nil
}

// AllUsage returns the usage of every account that keeps something,
// sorted by domain and user.
func (s *Store) AllUsage(ctx context.Context) ([]Usage, error) {
	ms := time.Now().UnixMilli()
	rows, err := s.db.Query(ctx, s.q.all, ms, ms)
	if err != nil {
		return nil, fmt.Errorf("upload: usage: %w", err)
	}
	defer rows.Close()
	var out []Usage
	for rows.Next() {
		var dom, user string
		var u Usage
		if err := rows.Scan(&dom, &user, &u.Files, &u.Slots, &u.Bytes); err != nil {
			return nil, fmt.Errorf("upload: usage: %w", err)
		}
		if u.Owner, err = jid.New(user, dom, ""); err != nil {
			return nil, fmt.Errorf("upload: usage: stored owner %q@%q: %w", user, dom, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("upload: usage: %w", err)
	}
	return out, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanSlot(r scanner) (Slot, error) {
	var sl Slot
	var dom, user string
	var created, before, expires, uploaded int64
	if err := r.Scan(&sl.ID, &dom, &user, &sl.Filename, &sl.Size, &sl.ContentType, &created, &before, &expires, &uploaded); err != nil {
		return sl, err
	}
	owner, err := jid.New(user, dom, "")
	if err != nil {
		return sl, fmt.Errorf("stored owner %q@%q: %w", user, dom, err)
	}
	sl.Owner = owner
	sl.Created, sl.PutBefore, sl.Expires = time.UnixMilli(created), time.UnixMilli(before), time.UnixMilli(expires)
	if uploaded > 0 {
		sl.Uploaded = time.UnixMilli(uploaded)
	}
	return sl, nil
}

// Get returns the slot id, or ErrNoSlot.
func (s *Store) Get(ctx context.Context, id string) (Slot, error) {
	sl, err := scanSlot(s.db.QueryRow(ctx, s.q.get, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sl, fmt.Errorf("upload: slot %q: %w", id, ErrNoSlot)
	}
	if err != nil {
		return sl, fmt.Errorf("upload: slot %q: %w", id, err)
	}
	return sl, nil
}

// MarkUploaded records that the PUT of slot id finished at: it reports
// false when the slot is gone, was used already, or its PUT deadline
// passed (one conditional update, so two PUTs cannot both succeed).
func (s *Store) MarkUploaded(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := s.db.Exec(ctx, s.q.done, at.UnixMilli(), id, at.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("upload: mark slot %q uploaded: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Delete removes the record of slot id.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.db.Exec(ctx, s.q.del, id); err != nil {
		return fmt.Errorf("upload: delete slot %q: %w", id, err)
	}
	return nil
}

// Expired returns up to limit slots that are over at now: files past
// their expiry and slots never used before their PUT deadline.
func (s *Store) Expired(ctx context.Context, now time.Time, limit int) ([]Slot, error) {
	ms := now.UnixMilli()
	rows, err := s.db.Query(ctx, s.q.expired, ms, ms, limit)
	if err != nil {
		return nil, fmt.Errorf("upload: expired slots: %w", err)
	}
	defer rows.Close()
	var out []Slot
	for rows.Next() {
		sl, err := scanSlot(rows)
		if err != nil {
			return nil, fmt.Errorf("upload: expired slots: %w", err)
		}
		out = append(out, sl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("upload: expired slots: %w", err)
	}
	return out, nil
}
