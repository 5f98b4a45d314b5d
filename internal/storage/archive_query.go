package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// maxQueryIDs bounds ArchiveQuery.IDs (one IN list).
const maxQueryIDs = 500

// sqlFilter is a WHERE clause being built: conditions joined by AND and
// their arguments.
type sqlFilter struct {
	conds []string
	args  []any
	// hashOnly is the filter without the with_bare check, which only
	// guards against a collision of with_key and costs a table read per
	// row: counting uses it, so that it reads the index alone.
	hashOnly *sqlFilter
}

func (f *sqlFilter) add(cond string, args ...any) {
	f.conds = append(f.conds, cond)
	f.args = append(f.args, args...)
}

func (f *sqlFilter) where() string { return " WHERE " + strings.Join(f.conds, " AND ") }

// Query returns a page of owner's archive (see ArchiveQuery). An id given
// to page from (AfterID, BeforeID, After, Before) that is not in the
// archive fails with ErrNoSuchID.
func (a *Archive) Query(ctx context.Context, owner jid.JID, q ArchiveQuery) (ArchivePage, error) {
	if err := checkArchiveOwner(owner); err != nil {
		return ArchivePage{}, err
	}
	if q.Max < 1 {
		return ArchivePage{}, fmt.Errorf("storage: archive page size %d (must be at least 1)", q.Max)
	}
	if len(q.IDs) > maxQueryIDs {
		return ArchivePage{}, fmt.Errorf("storage: %d ids in one archive query (at most %d)", len(q.IDs), maxQueryIDs)
	}
	f, ok, err := a.filter(ctx, owner, q)
	if err != nil || !ok {
		return ArchivePage{Complete: true, Count: countOrNone(q, 0)}, err
	}
	page := ArchivePage{Count: -1}
	if q.Count {
		cf := f
		if f.hashOnly != nil {
			cf = *f.hashOnly
		}
		if page.Count, err = a.count(ctx, cf, q.CountLimit); err != nil {
			return ArchivePage{}, fmt.Errorf("storage: count archive of %s: %w", owner, err)
		}
	}
	rsm := f
	rsm.conds, rsm.args = slices.Clone(f.conds), slices.Clone(f.args)
	if err := a.pageBounds(ctx, owner, q, &rsm); err != nil {
		return ArchivePage{}, err
	}
	order := " ORDER BY id"
	if q.Backward {
		order = " ORDER BY id DESC"
	}
	query := a.db.Rebind("SELECT id, with_bare, with_resource, data FROM archive" + rsm.where() + order + fmt.Sprintf(" LIMIT %d", q.Max+1))
	msgs, err := a.rows(ctx, query, len(q.IDs) == 0, rsm.args)
	if err != nil {
		return ArchivePage{}, fmt.Errorf("storage: query archive of %s: %w", owner, err)
	}
	page.Complete = len(msgs) <= q.Max
	if !page.Complete {
		msgs = msgs[:q.Max]
	}
	if q.Backward {
		slices.Reverse(msgs)
	}
	page.Messages = msgs
	return page, nil
}

func countOrNone(q ArchiveQuery, n int) int {
	if q.Count {
		return n
	}
	return -1
}

// filter builds the WHERE clause of q's filters. ok is false when they
// select nothing for sure (none of IDs parses).
func (a *Archive) filter(ctx context.Context, owner jid.JID, q ArchiveQuery) (f sqlFilter, ok bool, err error) {
	f.add("owner = ?", owner.String())
	if !q.With.IsZero() {
		bare := q.With.Bare().String()
		f.add("with_key = ?", withKey(bare))
		if q.With.IsBare() {
			f.hashOnly = &sqlFilter{conds: slices.Clone(f.conds), args: slices.Clone(f.args)}
		}
		f.add("with_bare = ?", bare)
		if !q.With.IsBare() {
			f.add("with_resource = ?", q.With.Resource())
		}
	}
	if !q.Start.IsZero() {
		f.add("id >= ?", q.Start.UnixMicro())
	}
	if !q.End.IsZero() {
		f.add("id <= ?", q.End.UnixMicro())
	}
	defer func() {
		if h := f.hashOnly; h != nil {
			h.conds = append(h.conds, f.conds[len(h.conds)+1:]...)
			h.args = append(h.args, f.args[len(h.args)+1:]...)
		}
	}()
	for _, b := range []struct {
		id, op string
	}{{q.AfterID, ">"}, {q.BeforeID, "<"}} {
		if b.id == "" {
			continue
		}
		n, err := a.resolve(ctx, owner, b.id)
		if err != nil {
			return f, false, err
		}
		f.add("id "+b.op+" ?", n)
	}
	if len(q.IDs) == 0 {
		return f, true, nil
	}
	var ids []any
	for _, s := range q.IDs {
		if n, ok := ParseArchiveID(s); ok {
			ids = append(ids, n)
		}
	}
	if len(ids) == 0 {
		return f, false, nil
	}
	f.add("id IN (?"+strings.Repeat(", ?", len(ids)-1)+")", ids...)
	return f, true, nil
}

// pageBounds adds the RSM position (after or before an id) to f.
func (a *Archive) pageBounds(ctx context.Context, owner jid.JID, q ArchiveQuery, f *sqlFilter) error {
	switch {
	case q.Backward && q.Before != "":
		n, err := a.resolve(ctx, owner, q.Before)
		if err != nil {
			return err
		}
		f.add("id < ?", n)
	case !q.Backward && q.After != "":
		n, err := a.resolve(ctx, owner, q.After)
		if err != nil {
			return err
		}
		f.add("id > ?", n)
	}
	return nil
}

// resolve checks that id is a message of owner's archive and returns its
// number.
func (a *Archive) resolve(ctx context.Context, owner jid.JID, id string) (int64, error) {
	n, ok := ParseArchiveID(id)
	if ok {
		var one int
		err := a.db.QueryRow(ctx, a.q.exists, owner.String(), n).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			ok = false
		case err != nil:
			return 0, fmt.Errorf("storage: look up archive id %q of %s: %w", id, owner, err)
		}
	}
	if !ok {
		return 0, fmt.Errorf("%w: %q in the archive of %s", ErrNoSuchID, id, owner)
	}
	return n, nil
}

// count counts the messages f selects, up to limit (when positive):
// past it the count is -1.
func (a *Archive) count(ctx context.Context, f sqlFilter, limit int) (n int, err error) {
	if limit > 0 {
		defer func() {
			if err == nil && n > limit {
				n = -1
			}
		}()
	}
	q := a.db.Rebind("SELECT count(*) FROM archive" + f.where())
	if limit > 0 {
		q = a.db.Rebind(fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM archive%s LIMIT %d) t", f.where(), limit+1))
	}
	var row *sql.Row
	if len(f.conds) > 0 && !strings.Contains(f.conds[len(f.conds)-1], " IN (") {
		row = a.db.QueryRow(ctx, q, f.args...)
	} else {
		row = a.db.sql.QueryRowContext(ctx, q, f.args...)
	}
	return n, row.Scan(&n)
}

// rows runs a page query; cached says whether its text is one of the few
// fixed shapes worth a cached prepared statement.
func (a *Archive) rows(ctx context.Context, query string, cached bool, args []any) ([]ArchivedMessage, error) {
	var rows *sql.Rows
	var err error
	if cached {
		rows, err = a.db.Query(ctx, query, args...)
	} else {
		rows, err = a.db.sql.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ArchivedMessage
	for rows.Next() {
		var n int64
		var bare, res string
		var m ArchivedMessage
		if err := rows.Scan(&n, &bare, &res, &m.Data); err != nil {
			return nil, err
		}
		m.ID, m.At = FormatArchiveID(n), time.UnixMicro(n)
		if m.With, err = withJID(bare, res); err != nil {
			return nil, fmt.Errorf("stored 'with' %q: %w", bare, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func withJID(bare, res string) (jid.JID, error) {
	j, err := jid.Parse(bare)
	if err != nil || res == "" {
		return j, err
	}
	return j.WithResource(res)
}

// ArchiveBounds are the first and last messages of an archive
// (XEP-0313 §5.1 metadata).
type ArchiveBounds struct {
	Empty   bool
	FirstID string
	FirstAt time.Time
	LastID  string
	LastAt  time.Time
}

// Bounds returns the first and last message ids of owner's archive.
func (a *Archive) Bounds(ctx context.Context, owner jid.JID) (ArchiveBounds, error) {
	if err := checkArchiveOwner(owner); err != nil {
		return ArchiveBounds{}, err
	}
	var first, last int64
	err := a.db.QueryRow(ctx, a.q.first, owner.String()).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
		return ArchiveBounds{Empty: true}, nil
	}
	if err == nil {
		err = a.db.QueryRow(ctx, a.q.last, owner.String()).Scan(&last)
	}
	if err != nil {
		return ArchiveBounds{}, fmt.Errorf("storage: archive bounds of %s: %w", owner, err)
	}
	return ArchiveBounds{
		FirstID: FormatArchiveID(first), FirstAt: time.UnixMicro(first),
		LastID: FormatArchiveID(last), LastAt: time.UnixMicro(last),
	}, nil
}

// Purge removes owner's archived messages archived before before, or all
// of them when before is zero, and returns how many it removed.
func (a *Archive) Purge(ctx context.Context, owner jid.JID, before time.Time) (int, error) {
	if err := checkArchiveOwner(owner); err != nil {
		return 0, err
	}
	var n int64
	err := a.db.InTx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if before.IsZero() {
			res, err = tx.ExecContext(ctx, a.q.purge, owner.String())
		} else {
			res, err = tx.ExecContext(ctx, a.q.purgeBefore, owner.String(), before.UnixMicro())
		}
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storage: purge archive of %s: %w", owner, err)
	}
	return int(n), nil
}

// DeleteOwnerTx removes owner's whole archive inside tx (an account
// removal's transaction: an archive is keyed by its owner's JID, not tied
// to the account row, so the account store removes it explicitly).
func (a *Archive) DeleteOwnerTx(ctx context.Context, tx *sql.Tx, owner jid.JID) error {
	if _, err := tx.ExecContext(ctx, a.q.purge, owner.String()); err != nil {
		return fmt.Errorf("storage: delete archive of %s: %w", owner, err)
	}
	return nil
}

// expireChunk bounds the rows one retention transaction deletes.
const expireChunk = 10000

// Expire removes every archived message (of every owner) archived before
// before, in transactions of at most expireChunk messages, and returns
// how many it removed.
func (a *Archive) Expire(ctx context.Context, before time.Time) (int, error) {
	limit := before.UnixMicro()
	total := 0
	for {
		cut := limit
		var edge int64
		err := a.db.QueryRow(ctx, a.q.expireCut, limit, expireChunk-1).Scan(&edge)
		switch {
		case err == nil:
			cut = edge + 1 // the chunk ends with edge
		case !errors.Is(err, sql.ErrNoRows):
			return total, fmt.Errorf("storage: expire archive: %w", err)
		}
		var n int64
		err = a.db.InTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, a.q.expire, cut)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("storage: expire archive: %w", err)
		}
		total += int(n)
		if cut == limit {
			return total, nil
		}
	}
}

// Import adds messages with the ids and times they had in another
// server's archive (an export); a message whose id the archive already
// has is skipped. It returns how many it added.
func (a *Archive) Import(ctx context.Context, owner jid.JID, msgs []ArchivedMessage) (int, error) {
	if err := checkArchiveOwner(owner); err != nil {
		return 0, err
	}
	ins := a.db.Rebind(insertSQL(1))
	has := a.db.Rebind("SELECT count(*) FROM archive WHERE id = ?")
	var added int
	err := a.db.InTx(ctx, func(tx *sql.Tx) error {
		added = 0
		for _, m := range msgs {
			n, ok := ParseArchiveID(m.ID)
			if !ok {
				return fmt.Errorf("%q is not an archive id", m.ID)
			}
			var dup int
			if err := tx.QueryRowContext(ctx, has, n).Scan(&dup); err != nil {
				return err
			}
			if dup > 0 {
				continue
			}
			with := m.With.Bare().String()
			if _, err := tx.ExecContext(ctx, ins, n, owner.String(), withKey(with), with, m.With.Resource(), nonNil(m.Data)); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: import archive of %s: %w", owner, err)
	}
	return added, nil
}
