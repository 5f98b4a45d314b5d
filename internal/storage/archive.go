package storage

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// ErrNoSuchID is returned (wrapped) by Archive.Query when an id it was
// given to page from is not an id of that archive (XEP-0313 §4.1.2:
// item-not-found).
var ErrNoSuchID = errors.New("storage: no such message in the archive")

// ErrClosed is returned (wrapped) by Archive.Append once the database is
// closing.
var ErrClosed = errors.New("storage: database closed")

// ArchiveEntry is one message to append to an archive.
//
// Two entries in a row that are the two sides of one message (the
// second's Owner is the first's With, bare, and the other way round, with
// the same Data) are stored once, in both archives, and get the same id:
// the MAM hook archives a chat message between two accounts so.
type ArchiveEntry struct {
	Owner jid.JID // the archive: a bare JID (an account, or a room)
	With  jid.JID // the other party: a full or bare JID
	Data  []byte  // the message (stored XML, see EncodeElements)
}

// ArchivedMessage is one message read from an archive.
type ArchivedMessage struct {
	ID   string    // the server-assigned stanza-id (XEP-0359)
	At   time.Time // when it was archived
	With jid.JID
	Data []byte
}

// ArchiveQuery selects messages of one archive and a page of them.
// Zero fields do not filter.
type ArchiveQuery struct {
	// With keeps the messages exchanged with a bare JID (any resource of
	// it) or, when it has a resource, with that full JID only.
	With jid.JID
	// Start and End bound the archive time, both inclusive.
	Start, End time.Time
	// AfterID and BeforeID keep the messages after or before a message
	// of the archive (exclusive; XEP-0313 after-id/before-id).
	AfterID, BeforeID string
	// IDs keeps only these messages (ids unknown to the archive are
	// ignored).
	IDs []string

	// Max is the page size (XEP-0059); at least 1.
	Max int
	// After asks for the page after that id (forward paging, the
	// default). Backward asks for the page before Before, or the last
	// page when Before is empty (RSM <before/>).
	After    string
	Before   string
	Backward bool
	// Count asks for the number of messages the filters select, without
	// paging.
	Count bool
	// CountLimit, when positive, bounds the counting: past that many
	// messages the count is left out (-1), so that counting costs at
	// most CountLimit index entries on a huge archive.
	CountLimit int
}

// ArchivePage is the answer to a query.
type ArchivePage struct {
	// Messages are in archive order, oldest first.
	Messages []ArchivedMessage
	// Complete says that no message is left in the paging direction: the
	// page is the last (forward) or the first (backward).
	Complete bool
	// Count is the number of messages the filters select, when the query
	// asked for it and there are at most CountLimit; -1 otherwise.
	Count int
}

// ArchiveStats are counters of the group commit, for metrics and tests.
type ArchiveStats struct {
	Batches  int64 // transactions committed
	Messages int64 // rows committed (a message in both parties' archives is one)
}

// Archive is the message archive (XEP-0313) of every owner: an
// append-only log per owner JID with server-assigned ids, read by
// queries that filter and page it. A message exchanged by two owners is
// stored once, in both archives (see migration 00014 for the schema).
//
// Append commits by group commit: one goroutine (the committer) takes
// every append that is waiting and writes them in one transaction, so
// that many sessions appending at once share one commit (and one fsync:
// on SQLite the archive's transactions run with synchronous=FULL). Append
// returns once its messages are durable.
type Archive struct {
	db   *DB
	reqs chan *appendReq
	// closing is closed by DB.Close; done when the committer has exited.
	closing, done chan struct{}
	stopOnce      sync.Once

	// last is the last id the committer assigned (committer-owned).
	last int64
	// wdb and wconn are the SQLite writer (committer-owned, see writer).
	wdb   *sql.DB
	wconn *sql.Conn
	// wstmts are the INSERTs prepared on wconn, by rows: a batch ends
	// with a chunk of any size, and parsing its SQL again each time cost
	// 7 % of the server's CPU under load.
	wstmts map[int]*sql.Stmt
	// lastCheckpoint is when the writer last checkpointed.
	lastCheckpoint time.Time

	batches, messages atomic.Int64

	q struct {
		maxID, exists, expire, expireCut, jidID, jidAdd string
	}

	// jids caches archive_jids (bare JID → id) for ids that are
	// committed; see intern.
	jids struct {
		sync.Mutex
		m map[string]int64
	}
}

type appendReq struct {
	ctx  context.Context
	rows []archiveRow
	// entryRow maps each entry to its row (two entries may share one).
	entryRow []int
	ids      []int64    // per row
	done     chan error // buffered: the committer never waits for a caller
}

// archiveRow is one archive_messages row to write: a message between two
// parties (bare JIDs, with the resource each had), in the archive of one
// or both.
type archiveRow struct {
	party [2]string
	res   [2]string
	in    [2]bool // in party[i]'s archive
	data  []byte
}

// rowsOf turns entries into rows, pairing the two sides of one message
// (see ArchiveEntry).
func rowsOf(entries []ArchiveEntry) (rows []archiveRow, entryRow []int) {
	entryRow = make([]int, len(entries))
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		r := archiveRow{
			party: [2]string{e.Owner.String(), e.With.Bare().String()},
			res:   [2]string{"", e.With.Resource()},
			in:    [2]bool{true, false},
			data:  nonNil(e.Data),
		}
		if i+1 < len(entries) && mirrored(e, entries[i+1]) {
			r.res[0], r.in[1] = entries[i+1].With.Resource(), true
			entryRow[i+1] = len(rows)
		}
		entryRow[i] = len(rows)
		if r.in[1] {
			i++
		}
		rows = append(rows, r)
	}
	return rows, entryRow
}

// mirrored says whether b is the other party's side of a's message.
func mirrored(a, b ArchiveEntry) bool {
	return a.Owner != b.Owner && b.Owner == a.With.Bare() && b.With.Bare() == a.Owner && bytes.Equal(a.Data, b.Data)
}

// maxBatch bounds the rows of one group commit; insertChunk the rows of
// one INSERT.
const (
	maxBatch    = 4096
	insertChunk = 64
)

// Archive returns the database's message archive (one per DB: it owns
// the committer goroutine, which DB.Close stops).
func (db *DB) Archive() *Archive {
	db.archiveOnce.Do(func() {
		a := &Archive{db: db, reqs: make(chan *appendReq, 1024), closing: make(chan struct{}), done: make(chan struct{})}
		a.q.maxID = "SELECT COALESCE(MAX(id), 0) FROM archive_messages"
		a.q.exists = db.Rebind("SELECT 1 FROM archive_messages WHERE id = ? AND ((jid_lo = ? AND (vis & 1) <> 0) OR (jid_hi = ? AND (vis & 2) <> 0))")
		a.q.expire = db.Rebind("DELETE FROM archive_messages WHERE id < ?")
		a.q.expireCut = db.Rebind("SELECT id FROM archive_messages WHERE id < ? ORDER BY id LIMIT 1 OFFSET ?")
		a.q.jidID = db.Rebind("SELECT id FROM archive_jids WHERE jid = ?")
		a.q.jidAdd = db.Rebind("INSERT INTO archive_jids (jid) VALUES (?) " + ignoreDuplicate(db.d.name))
		a.jids.m = make(map[string]int64)
		go a.run()
		db.archive.Store(a)
	})
	return db.archive.Load()
}

// stop ends the committer after it committed what was already queued.
func (a *Archive) stop() {
	a.stopOnce.Do(func() { close(a.closing) })
	<-a.done
}

// Stats returns the group commit's counters.
func (a *Archive) Stats() ArchiveStats {
	return ArchiveStats{Batches: a.batches.Load(), Messages: a.messages.Load()}
}

// Append adds entries to their archives in one transaction and returns
// their ids, in order, once they are committed. If ctx ends before the
// committer took them, nothing is written; if it ends while they are
// being committed, Append returns ctx's error and the outcome is unknown.
func (a *Archive) Append(ctx context.Context, entries ...ArchiveEntry) ([]string, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	p, err := a.Submit(ctx, entries...)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// PendingAppend is an append handed to the group commit (Submit) whose
// outcome Wait returns.
type PendingAppend struct {
	a *Archive
	r *appendReq
}

// Submit hands entries to the group commit and returns without waiting
// for the commit, so that a caller can hand over more (its next message)
// while this one is being written: appends submitted one after the other
// are committed in that order (in the same transaction or in earlier
// ones). It blocks only while the commit queue is full. If ctx ends
// before the committer took them, nothing is written.
func (a *Archive) Submit(ctx context.Context, entries ...ArchiveEntry) (*PendingAppend, error) {
	for _, e := range entries {
		if err := checkArchiveOwner(e.Owner); err != nil {
			return nil, err
		}
		if e.With.IsZero() {
			return nil, errors.New("storage: archive entry without a 'with' JID")
		}
	}
	rows, entryRow := rowsOf(entries)
	r := &appendReq{ctx: ctx, rows: rows, entryRow: entryRow, done: make(chan error, 1)}
	select {
	case a.reqs <- r:
	case <-ctx.Done():
		return nil, fmt.Errorf("storage: archive append: %w", ctx.Err())
	case <-a.closing:
		return nil, fmt.Errorf("storage: archive append: %w", ErrClosed)
	}
	return &PendingAppend{a: a, r: r}, nil
}

// Wait returns the ids of the submitted entries, in order, once they are
// committed, or why they were not. If ctx ends first, the outcome is
// unknown. Wait is for one goroutine, once.
func (p *PendingAppend) Wait(ctx context.Context) ([]string, error) {
	a, r := p.a, p.r
	select {
	case err := <-r.done:
		if err != nil {
			return nil, fmt.Errorf("storage: archive append: %w", err)
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("storage: archive append (outcome unknown): %w", ctx.Err())
	case <-a.done:
		select { // the committer may have answered just before exiting
		case err := <-r.done:
			if err != nil {
				return nil, fmt.Errorf("storage: archive append: %w", err)
			}
		default:
			return nil, fmt.Errorf("storage: archive append: %w", ErrClosed)
		}
	}
	ids := make([]string, len(r.entryRow))
	for i, row := range r.entryRow {
		ids[i] = FormatArchiveID(r.ids[row])
	}
	return ids, nil
}

// checkArchiveOwner accepts bare JIDs with a localpart (accounts, rooms).
func checkArchiveOwner(owner jid.JID) error {
	if owner.Local() == "" || !owner.IsBare() {
		return fmt.Errorf("storage: %q cannot own an archive (a bare JID with a localpart can)", owner)
	}
	return nil
}

// run is the committer.
func (a *Archive) run() {
	defer close(a.done)
	defer func() {
		a.dropWriter()
		if a.wdb != nil {
			a.wdb.Close()
		}
	}()
	var batch []*appendReq
	for {
		select {
		case r := <-a.reqs:
			batch = append(batch[:0], r)
		case <-a.closing:
			a.drain()
			return
		}
		batch = a.fill(batch)
		a.commit(batch)
		clear(batch)
	}
}

// fill adds to batch every request already waiting, up to maxBatch
// messages.
func (a *Archive) fill(batch []*appendReq) []*appendReq {
	n := len(batch[0].rows)
	for n < maxBatch {
		select {
		case r := <-a.reqs:
			batch = append(batch, r)
			n += len(r.rows)
		default:
			return batch
		}
	}
	return batch
}

// drain commits what is queued when the database closes.
func (a *Archive) drain() {
	for {
		select {
		case r := <-a.reqs:
			a.commit(a.fill([]*appendReq{r}))
		default:
			return
		}
	}
}

// commit writes the live requests of batch in one transaction and tells
// each caller the outcome.
func (a *Archive) commit(batch []*appendReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // given up before the commit: nothing written
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	err := a.write(live)
	for _, r := range live {
		r.done <- err
	}
}

// write assigns ids and inserts the rows of reqs, retrying with fresh ids
// when one was taken (another process, or an import, wrote it).
func (a *Archive) write(reqs []*appendReq) error {
	ctx := context.Background() // bounded by the engines' timeouts; callers may leave
	if a.last == 0 {
		if err := a.loadLast(ctx); err != nil {
			return err
		}
	}
	ids, err := a.internBatch(ctx, reqs)
	if err != nil {
		return err
	}
	for range maxDupAttempts {
		n := 0
		for _, r := range reqs {
			r.ids = r.ids[:0]
			for range r.rows {
				r.ids = append(r.ids, a.nextID())
				n++
			}
		}
		err = a.tx(ctx, func(tx *sql.Tx) error { return a.insert(ctx, tx, reqs, ids) })
		if err == nil {
			a.batches.Add(1)
			a.messages.Add(int64(n))
			return nil
		}
		if a.db.d.classify(err) != errDuplicate && !isUniqueViolation(err) {
			return err
		}
		if lerr := a.loadLast(ctx); lerr != nil {
			return lerr
		}
	}
	return err
}

// isUniqueViolation recognises SQLite's primary key violation (the other
// engines classify theirs as errDuplicate).
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func (a *Archive) loadLast(ctx context.Context) error {
	var last int64
	if err := a.db.sql.QueryRowContext(ctx, a.q.maxID).Scan(&last); err != nil {
		return fmt.Errorf("read the last archive id: %w", err)
	}
	a.last = max(a.last, last)
	return nil
}

// nextID returns a new id: the current Unix time in microseconds, or one
// more than the last id when the clock has not moved on (or went back).
func (a *Archive) nextID() int64 {
	id := time.Now().UnixMicro()
	if id <= a.last {
		id = a.last + 1
	}
	a.last = id
	return id
}

// tx runs fn in a durable write transaction: through InTx on the server
// engines (whose commits are durable by default), and on SQLite on the
// archive's own writer connection (see writer).
func (a *Archive) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if a.db.d.name != "sqlite" {
		return a.db.InTx(ctx, fn)
	}
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		if err = a.sqliteTx(ctx, fn); err == nil || a.db.d.classify(err) != errConflict {
			return err
		}
		time.Sleep(time.Duration(attempt) * 10 * time.Millisecond)
	}
	return err
}

// writerCacheKiB is the page cache of the SQLite writer connection: the
// index pages one group commit touches (two per owner in the batch) stay
// in memory instead of spilling to the log mid-transaction and being read
// back.
const writerCacheKiB = 64 << 10

// writer returns the committer's SQLite connection, opening it on first
// use: a pool of its own (one connection, so the shared pool is never
// short of one), with synchronous=FULL so that a commit returns after the
// write-ahead log reached the disk, and a large page cache that stays
// warm because this connection is the archive's only writer.
func (a *Archive) writer(ctx context.Context) (*sql.Conn, error) {
	if a.wconn != nil {
		return a.wconn, nil
	}
	if a.wdb == nil {
		w, err := sql.Open("sqlite", a.db.sqliteDSN)
		if err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		a.wdb = w
	}
	c, err := a.wdb.Conn(ctx)
	if err != nil {
		return nil, err
	}
	// temp_store=MEMORY keeps the statement journals of the multi-row
	// INSERTs in memory: on disk they cost a write system call per page.
	// wal_autocheckpoint=0: this connection checkpoints on a timer (see
	// checkpoint), not every 1000 pages of log.
	for _, p := range []string{"PRAGMA synchronous=FULL", fmt.Sprintf("PRAGMA cache_size=-%d", writerCacheKiB), "PRAGMA temp_store=MEMORY", "PRAGMA wal_autocheckpoint=0"} {
		if _, err := c.ExecContext(ctx, p); err != nil {
			c.Close()
			return nil, err
		}
	}
	a.wconn = c
	return c, nil
}

// dropWriter forgets the writer connection after a failure; the next
// transaction opens a fresh one.
func (a *Archive) dropWriter() {
	for _, st := range a.wstmts {
		st.Close()
	}
	a.wstmts = nil
	if a.wconn != nil {
		a.wconn.Close()
		a.wconn = nil
	}
}

func (a *Archive) sqliteTx(ctx context.Context, fn func(*sql.Tx) error) error {
	conn, err := a.writer(ctx)
	if err != nil {
		return fmt.Errorf("archive connection: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		a.dropWriter()
		return fmt.Errorf("begin archive transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		a.dropWriter()
		return fmt.Errorf("commit archive transaction: %w", err)
	}
	a.checkpoint(ctx, conn)
	return nil
}

// checkpointEvery is how often the SQLite writer copies the log into the
// database file. Checkpointing on a timer rather than every 1000 pages
// (SQLite's default) copies a page that many commits changed (the tail of
// a busy owner's index) once per period instead of once per commit or two.
const checkpointEvery = time.Second

// checkpoint runs a passive checkpoint when the last is checkpointEvery
// old (a failure only means the log grows until the next one).
func (a *Archive) checkpoint(ctx context.Context, conn *sql.Conn) {
	if time.Since(a.lastCheckpoint) < checkpointEvery {
		return
	}
	a.lastCheckpoint = time.Now()
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		a.db.log.Warn("storage: archive checkpoint failed", "err", err)
	}
}

// insert writes the rows of reqs in multi-row INSERTs of insertChunk
// rows, the rest in INSERTs of decreasing powers of two: every INSERT is
// one of a few prepared statements (parsing the SQL of a batch's last
// chunk again each time cost 7 % of the server's CPU under load).
func (a *Archive) insert(ctx context.Context, tx *sql.Tx, reqs []*appendReq, ids map[string]int64) error {
	args := make([]any, 0, archiveCols*insertChunk)
	for _, r := range reqs {
		for i, row := range r.rows {
			args = row.appendArgs(args, r.ids[i], ids)
			if len(args) == archiveCols*insertChunk {
				if err := a.insertRows(ctx, tx, insertChunk, args); err != nil {
					return err
				}
				args = args[:0]
			}
		}
	}
	for n := insertChunk / 2; len(args) > 0; n /= 2 {
		if len(args) < archiveCols*n {
			continue
		}
		if err := a.insertRows(ctx, tx, n, args[:archiveCols*n]); err != nil {
			return err
		}
		args = args[archiveCols*n:]
	}
	return nil
}

// archiveCols is the number of columns insert writes per row.
const archiveCols = 7

// appendArgs appends the INSERT arguments of row, with id, to args: the
// parties in the order of their interned ids (ids holds them).
func (row *archiveRow) appendArgs(args []any, id int64, ids map[string]int64) []any {
	lo, hi := 0, 1
	if ids[row.party[0]] > ids[row.party[1]] {
		lo, hi = 1, 0
	}
	vis := 0
	if row.in[lo] {
		vis |= visLo
	}
	if row.in[hi] && row.party[lo] != row.party[hi] {
		vis |= visHi
	}
	return append(args, id, ids[row.party[lo]], ids[row.party[hi]], row.res[lo], row.res[hi], vis, row.data)
}

// The bits of archive_messages.vis: whose archive a row is in.
const (
	visLo = 1
	visHi = 2
)

func (a *Archive) insertRows(ctx context.Context, tx *sql.Tx, rows int, args []any) error {
	st, err := a.chunkStmt(ctx, tx, rows)
	if err == nil {
		_, err = st.ExecContext(ctx, args...)
	}
	return err
}

// chunkStmt returns the prepared INSERT of rows rows for tx: on SQLite
// prepared once on the writer connection, elsewhere from the shared
// statement cache.
func (a *Archive) chunkStmt(ctx context.Context, tx *sql.Tx, rows int) (*sql.Stmt, error) {
	q := insertSQL(rows)
	if a.wconn == nil {
		return a.db.TxStmt(ctx, tx, a.db.Rebind(q))
	}
	st := a.wstmts[rows]
	if st == nil {
		var err error
		if st, err = a.wconn.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
		if a.wstmts == nil {
			a.wstmts = make(map[int]*sql.Stmt)
		}
		a.wstmts[rows] = st
	}
	return tx.StmtContext(ctx, st), nil
}

var insertSQLs sync.Map // rows → INSERT text

func insertSQL(rows int) string {
	if q, ok := insertSQLs.Load(rows); ok {
		return q.(string)
	}
	q := "INSERT INTO archive_messages (id, jid_lo, jid_hi, res_lo, res_hi, vis, data) VALUES (?, ?, ?, ?, ?, ?, ?)" +
		strings.Repeat(", (?, ?, ?, ?, ?, ?, ?)", rows-1)
	insertSQLs.Store(rows, q)
	return q
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// archiveIDLen is the length of every formatted id.
const archiveIDLen = 13

// FormatArchiveID renders an archive id as its stanza-id: 13 base-32
// digits, so that ids sort as text in archive order.
func FormatArchiveID(id int64) string {
	s := strconv.FormatUint(uint64(id), 32)
	if len(s) < archiveIDLen {
		s = strings.Repeat("0", archiveIDLen-len(s)) + s
	}
	return s
}

// ParseArchiveID is the inverse of FormatArchiveID; ok is false for
// anything it could not have produced.
func ParseArchiveID(s string) (id int64, ok bool) {
	if len(s) != archiveIDLen {
		return 0, false
	}
	u, err := strconv.ParseUint(s, 32, 63)
	if err != nil || strings.ToLower(s) != s {
		return 0, false
	}
	return int64(u), true
}
