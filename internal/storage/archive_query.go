package storage

import (
	"bytes"
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

// side is one way a row can be in an archive: as its jid_lo party or as
// its jid_hi party. A query without 'with' reads both; the conditions
// select the side's rows, with and res name the other party's columns.
type side struct {
	conds     []string
	args      []any
	with, res string
}

func (s *side) add(cond string, args ...any) {
	s.conds = append(s.conds, cond)
	s.args = append(s.args, args...)
}

func (s *side) where() string { return " WHERE " + strings.Join(s.conds, " AND ") }

// ownerSides are the two sides of owner id oid.
func ownerSides(oid int64) []side {
	lo := side{with: "jid_hi", res: "res_hi"}
	lo.add("jid_lo = ?", oid)
	lo.add("(vis & 1) <> 0")
	hi := side{with: "jid_lo", res: "res_lo"}
	hi.add("jid_hi = ?", oid)
	hi.add("(vis & 2) <> 0")
	return []side{lo, hi}
}

// pairSide is the one side of owner oid's rows with wid (a message to
// oneself has jid_lo = jid_hi and is on the lo side).
func pairSide(oid, wid int64) side {
	s := side{with: "jid_hi", res: "res_hi"}
	lo, hi, bit := oid, wid, visLo
	if oid > wid {
		s = side{with: "jid_lo", res: "res_lo"}
		lo, hi, bit = wid, oid, visHi
	}
	s.add("jid_lo = ?", lo)
	s.add("jid_hi = ?", hi)
	s.add(fmt.Sprintf("(vis & %d) <> 0", bit))
	return s
}

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
	sides, pos, ok, err := a.filter(ctx, owner, q)
	if err != nil || !ok {
		return ArchivePage{Complete: true, Count: countOrNone(q, 0)}, err
	}
	// PostgreSQL plans each page for its owner (see planned).
	cached := len(q.IDs) == 0 && a.db.d.name != "postgres"
	page := ArchivePage{Count: -1}
	if q.Count {
		if page.Count, err = a.count(ctx, sides, q.CountLimit, cached); err != nil {
			return ArchivePage{}, fmt.Errorf("storage: count archive of %s: %w", owner, err)
		}
	}
	for i := range sides {
		sides[i].conds = append(sides[i].conds, pos.conds...)
		sides[i].args = append(sides[i].args, pos.args...)
	}
	query, args := a.pageSQL(sides, q.Backward, q.Max+1)
	msgs, err := a.rows(ctx, query, cached, args)
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

// filter builds the sides of q's filters and the RSM position condition
// (after or before an id, if any), which the count leaves out. ok is
// false when they select nothing for sure (none of IDs parses, or no row
// ever named owner or 'with').
func (a *Archive) filter(ctx context.Context, owner jid.JID, q ArchiveQuery) (sides []side, pos side, ok bool, err error) {
	oid, found, err := a.lookupJID(ctx, a.db.sql, owner.String())
	if err != nil {
		return nil, pos, false, fmt.Errorf("storage: query archive of %s: %w", owner, err)
	}
	var common side
	if !q.Start.IsZero() {
		common.add("id >= ?", q.Start.UnixMicro())
	}
	if !q.End.IsZero() {
		common.add("id <= ?", q.End.UnixMicro())
	}
	for _, b := range []struct{ id, op string }{{q.AfterID, ">"}, {q.BeforeID, "<"}} {
		if b.id == "" {
			continue
		}
		n, err := a.resolve(ctx, owner, oid, found, b.id)
		if err != nil {
			return nil, pos, false, err
		}
		common.add("id "+b.op+" ?", n)
	}
	rsm, op := "", ""
	switch {
	case q.Backward && q.Before != "":
		rsm, op = q.Before, "<"
	case !q.Backward && q.After != "":
		rsm, op = q.After, ">"
	}
	if rsm != "" {
		n, err := a.resolve(ctx, owner, oid, found, rsm)
		if err != nil {
			return nil, pos, false, err
		}
		pos.add("id "+op+" ?", n)
	}
	if len(q.IDs) > 0 {
		var ids []any
		for _, s := range q.IDs {
			if n, ok := ParseArchiveID(s); ok {
				ids = append(ids, n)
			}
		}
		if len(ids) == 0 {
			return nil, pos, false, nil
		}
		common.add("id IN (?"+strings.Repeat(", ?", len(ids)-1)+")", ids...)
	}
	if !found {
		return nil, pos, false, nil
	}
	if q.With.IsZero() {
		sides = ownerSides(oid)
	} else {
		wid, found, err := a.lookupJID(ctx, a.db.sql, q.With.Bare().String())
		if err != nil || !found {
			return nil, pos, false, err
		}
		s := pairSide(oid, wid)
		if !q.With.IsBare() {
			s.add(s.res+" = ?", q.With.Resource())
		}
		sides = []side{s}
	}
	for i := range sides {
		sides[i].conds = append(sides[i].conds, common.conds...)
		sides[i].args = append(sides[i].args, common.args...)
	}
	return sides, pos, true, nil
}

// pageSQL is the query of a page of at most limit rows of sides: each
// side's first ids in the paging direction, read from its index alone,
// then their rows, merged. Selecting the ids alone keeps the side's index
// the planner's choice: asked for whole rows, PostgreSQL may prefer
// walking the primary key backwards and filtering, which reads the whole
// table when the side has few rows (or only old ones).
func (a *Archive) pageSQL(sides []side, backward bool, limit int) (string, []any) {
	dir := ""
	if backward {
		dir = " DESC"
	}
	parts := make([]string, len(sides))
	var args []any
	for i, s := range sides {
		parts[i] = fmt.Sprintf("SELECT m.id, m.%s AS w, m.%s AS r, m.data FROM (SELECT id FROM archive_messages%s ORDER BY id%s LIMIT %d) k%d JOIN archive_messages m ON m.id = k%d.id",
			s.with, s.res, s.where(), dir, limit, i, i)
		args = append(args, s.args...)
	}
	q := fmt.Sprintf("SELECT t.id, j.jid, t.r, t.data FROM (%s) t JOIN archive_jids j ON j.id = t.w ORDER BY t.id%s LIMIT %d",
		strings.Join(parts, " UNION ALL "), dir, limit)
	return a.db.Rebind(q), args
}

// resolve checks that id is a message of owner's archive (owner has the
// id oid, if found) and returns its number.
func (a *Archive) resolve(ctx context.Context, owner jid.JID, oid int64, found bool, id string) (int64, error) {
	n, ok := ParseArchiveID(id)
	ok = ok && found
	if ok {
		var one int
		err := a.db.QueryRow(ctx, a.q.exists, n, oid, oid).Scan(&one)
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

// count counts the messages sides select, up to limit (when positive):
// past it the count is -1. cached says whether the queries are of the
// few fixed shapes worth a cached prepared statement.
func (a *Archive) count(ctx context.Context, sides []side, limit int, cached bool) (int, error) {
	total := 0
	for _, s := range sides {
		q := a.db.Rebind("SELECT count(*) FROM archive_messages" + s.where())
		if limit > 0 {
			q = a.db.Rebind(fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM archive_messages%s LIMIT %d) t", s.where(), limit+1))
		}
		var row *sql.Row
		if cached {
			row = a.db.QueryRow(ctx, q, s.args...)
		} else {
			row = a.db.sql.QueryRowContext(ctx, q, a.planned(s.args)...)
		}
		var n int
		if err := row.Scan(&n); err != nil {
			return 0, err
		}
		total += n
		if limit > 0 && total > limit {
			return -1, nil
		}
	}
	return total, nil
}

// planned returns the arguments of an uncached page or count query: on
// PostgreSQL led by pgx's exec mode, so that the query is planned with its
// arguments every time. A cached statement's generic plan does not know
// which owner it reads and, on an archive of few JIDs, reads a side the
// owner has no rows on through the whole primary key (measured: 0.6 s for
// a page of a 1,000,000-message archive, against 0.3 ms).
func (a *Archive) planned(args []any) []any {
	if a.db.d.name != "postgres" {
		return args
	}
	return append([]any{customPlan}, args...)
}

// rows runs a page query; cached says whether its text is one of the few
// fixed shapes worth a cached prepared statement.
func (a *Archive) rows(ctx context.Context, query string, cached bool, args []any) ([]ArchivedMessage, error) {
	var rows *sql.Rows
	var err error
	if cached {
		rows, err = a.db.Query(ctx, query, args...)
	} else {
		rows, err = a.db.sql.QueryContext(ctx, query, a.planned(args)...)
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
	first, err := a.Query(ctx, owner, ArchiveQuery{Max: 1})
	if err != nil {
		return ArchiveBounds{}, fmt.Errorf("storage: archive bounds of %s: %w", owner, err)
	}
	if len(first.Messages) == 0 {
		return ArchiveBounds{Empty: true}, nil
	}
	last, err := a.Query(ctx, owner, ArchiveQuery{Max: 1, Backward: true})
	if err != nil || len(last.Messages) == 0 {
		return ArchiveBounds{}, fmt.Errorf("storage: archive bounds of %s: %w", owner, err)
	}
	f, l := first.Messages[0], last.Messages[0]
	return ArchiveBounds{FirstID: f.ID, FirstAt: f.At, LastID: l.ID, LastAt: l.At}, nil
}

// Purge removes owner's archived messages archived before before, or all
// of them when before is zero, and returns how many it removed. A
// message also in the other party's archive stays there.
func (a *Archive) Purge(ctx context.Context, owner jid.JID, before time.Time) (int, error) {
	if err := checkArchiveOwner(owner); err != nil {
		return 0, err
	}
	var n int64
	err := a.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = a.purgeTx(ctx, tx, owner, before)
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
	if _, err := a.purgeTx(ctx, tx, owner, time.Time{}); err != nil {
		return fmt.Errorf("storage: delete archive of %s: %w", owner, err)
	}
	return nil
}

// purgeTx takes owner's messages (before before, unless zero) out of its
// archive: it clears owner's bit of their rows, deletes the rows then in
// no archive, and returns how many messages it took out.
func (a *Archive) purgeTx(ctx context.Context, tx *sql.Tx, owner jid.JID, before time.Time) (int64, error) {
	oid, found, err := a.lookupJID(ctx, tx, owner.String())
	if err != nil || !found {
		return 0, err
	}
	cut, args := "", []any{oid}
	if !before.IsZero() {
		cut, args = " AND id < ?", append(args, before.UnixMicro())
	}
	var total int64
	for _, s := range []struct {
		col string
		bit int
	}{{"jid_lo", visLo}, {"jid_hi", visHi}} {
		res, err := tx.ExecContext(ctx, a.db.Rebind(fmt.Sprintf("UPDATE archive_messages SET vis = vis - %d WHERE %s = ? AND (vis & %d) <> 0%s", s.bit, s.col, s.bit, cut)), args...)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		total += n
		if _, err := tx.ExecContext(ctx, a.db.Rebind(fmt.Sprintf("DELETE FROM archive_messages WHERE %s = ? AND vis = 0%s", s.col, cut)), args...); err != nil {
			return 0, err
		}
	}
	return total, nil
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
// server's archive (an export) to owner's archive, and returns how many
// it added. A message whose id owner's archive already has is skipped; so
// is one whose id another message holds, unless that is the same message
// exchanged with the same party (the other side of a chat message both
// parties exported), which then is in both archives again.
func (a *Archive) Import(ctx context.Context, owner jid.JID, msgs []ArchivedMessage) (int, error) {
	if err := checkArchiveOwner(owner); err != nil {
		return 0, err
	}
	jids := []string{owner.String()}
	for _, m := range msgs {
		if _, ok := ParseArchiveID(m.ID); !ok {
			return 0, fmt.Errorf("storage: import archive of %s: %q is not an archive id", owner, m.ID)
		}
		jids = append(jids, m.With.Bare().String())
	}
	slices.Sort(jids)
	ids, err := a.internTx(ctx, a.db.InTx, slices.Compact(jids))
	if err != nil {
		return 0, fmt.Errorf("storage: import archive of %s: %w", owner, err)
	}
	var added int
	err = a.db.InTx(ctx, func(tx *sql.Tx) error {
		added = 0
		for _, m := range msgs {
			ok, err := a.importOne(ctx, tx, owner, m, ids)
			if err != nil {
				return err
			}
			if ok {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: import archive of %s: %w", owner, err)
	}
	return added, nil
}

// importOne adds m to owner's archive (see Import) and says whether it
// did.
func (a *Archive) importOne(ctx context.Context, tx *sql.Tx, owner jid.JID, m ArchivedMessage, ids map[string]int64) (bool, error) {
	n, _ := ParseArchiveID(m.ID)
	row := archiveRow{
		party: [2]string{owner.String(), m.With.Bare().String()},
		res:   [2]string{"", m.With.Resource()},
		in:    [2]bool{true, false},
		data:  nonNil(m.Data),
	}
	var lo, hi int64
	var vis int
	var data []byte
	err := tx.QueryRowContext(ctx, a.db.Rebind("SELECT jid_lo, jid_hi, vis, data FROM archive_messages WHERE id = ?"), n).Scan(&lo, &hi, &vis, &data)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, a.db.Rebind(insertSQL(1)), row.appendArgs(nil, n, ids)...)
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	oid, wid := ids[row.party[0]], ids[row.party[1]]
	bit, withRes := visLo, "res_hi"
	if oid > wid {
		bit, withRes = visHi, "res_lo"
	}
	if lo != min(oid, wid) || hi != max(oid, wid) || vis&bit != 0 || oid == wid || !bytes.Equal(data, row.data) {
		return false, nil // owner has it, or the id is another message's
	}
	_, err = tx.ExecContext(ctx, a.db.Rebind(fmt.Sprintf("UPDATE archive_messages SET vis = vis + %d, %s = ? WHERE id = ?", bit, withRes)), m.With.Resource(), n)
	return err == nil, err
}
