package storage

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// maxCachedStmts bounds the statement cache. The stores' queries are fixed
// texts (a few dozen); a query past the bound runs unprepared.
const maxCachedStmts = 256

// stmtCache holds one *sql.Stmt per query text. database/sql prepares a
// Stmt on each pooled connection the first time it runs there and keeps
// it, so a cached query is parsed and planned once per connection instead
// of once per call (on SQLite through modernc.org/sqlite, parsing and
// planning cost more than running the small indexed queries of a login).
//
// No lock is held while a statement is prepared (that needs a pooled
// connection, and the pool may be busy with transactions that are waiting
// for the cache), and a transaction never waits for a preparation: see
// TxStmt.
type stmtCache struct {
	mu     sync.Mutex
	m      map[string]*cachedStmt
	closed bool // set by closeStmts: no more background preparations

	// bg counts background preparations (see TxStmt); bgCtx ends them
	// when the database closes, which waits for them so that none opens
	// a connection (and SQLite's files) after Close.
	bg       sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc
}

type cachedStmt struct {
	st       atomic.Pointer[sql.Stmt]
	starting atomic.Bool // a background preparation was started
}

// entry returns query's cache entry, creating it; nil when the cache is
// full.
func (db *DB) entry(query string) *cachedStmt {
	c := &db.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[query]
	if e == nil {
		if len(c.m) >= maxCachedStmts {
			return nil
		}
		if c.m == nil {
			c.m = map[string]*cachedStmt{}
		}
		e = &cachedStmt{}
		c.m[query] = e
	}
	return e
}

// stmt returns the cached statement of query, preparing it on first use.
// It returns nil when the statement cannot be prepared (the database is
// unreachable, say) or the cache is full: the caller then runs the query
// unprepared, which reports the same error the statement would have.
func (db *DB) stmt(ctx context.Context, query string) *sql.Stmt {
	e := db.entry(query)
	if e == nil {
		return nil
	}
	if st := e.st.Load(); st != nil {
		return st
	}
	return db.prepare(ctx, e, query)
}

// prepare prepares query for e. Two callers may prepare the same query at
// once; the first to finish is kept.
func (db *DB) prepare(ctx context.Context, e *cachedStmt, query string) *sql.Stmt {
	st, err := db.sql.PrepareContext(ctx, query)
	if err != nil {
		e.starting.Store(false)
		return nil
	}
	if !e.st.CompareAndSwap(nil, st) {
		st.Close()
		return e.st.Load()
	}
	return st
}

// background prepares query for e on a goroutine of its own, unless the
// database is closing.
func (db *DB) background(e *cachedStmt, query string) {
	c := &db.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		e.starting.Store(false)
		return
	}
	if c.bgCtx == nil {
		c.bgCtx, c.bgCancel = context.WithCancel(context.Background())
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		db.prepare(c.bgCtx, e, query)
	}()
}

// closeStmts ends the background preparations and closes the cached
// statements (before the pool is closed).
func (db *DB) closeStmts() {
	c := &db.stmts
	c.mu.Lock()
	c.closed = true
	if c.bgCancel != nil {
		c.bgCancel()
	}
	c.mu.Unlock()
	c.bg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.m {
		if st := e.st.Load(); st != nil {
			st.Close()
		}
	}
	c.m = nil
}

// readCtx is the context of a statement run outside a transaction. On
// SQLite a statement is local and bounded (by the busy timeout when it
// waits for a lock), so it is not interrupted by ctx: a cancellable
// context costs database/sql and the driver a watching goroutine per
// statement. A ctx already done still fails the call before it starts
// (see the callers). The network engines keep ctx, whose deadline also
// bounds a stalled connection. It does not ask ctx for its Done channel:
// a session's context makes that channel on first use, and an idle
// session should not keep one for having read the database once.
func (db *DB) readCtx(ctx context.Context) context.Context {
	if db.d.name == "sqlite" {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// Query runs a query that returns rows, outside any transaction, through
// a cached prepared statement. query is a fixed text in the database's
// placeholder style (see Rebind and Upsert); queries whose text varies
// with their arguments (IN lists of varying length) belong on SQL().
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rctx := db.readCtx(ctx)
	if st := db.stmt(rctx, query); st != nil {
		return st.QueryContext(rctx, args...)
	}
	return db.sql.QueryContext(rctx, query, args...)
}

// QueryRow is Query for at most one row (see sql.DB.QueryRowContext).
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if ctx.Err() != nil {
		return db.sql.QueryRowContext(ctx, query, args...) // fails with ctx's error
	}
	rctx := db.readCtx(ctx)
	if st := db.stmt(rctx, query); st != nil {
		return st.QueryRowContext(rctx, args...)
	}
	return db.sql.QueryRowContext(rctx, query, args...)
}

// Exec runs one statement that returns no rows, outside any transaction
// (it commits on its own), through a cached prepared statement. Like
// Query, query is a fixed text. It is not retried: writes that must be
// retried on conflicts, or that are more than one statement, use InTx.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rctx := db.readCtx(ctx)
	if st := db.stmt(rctx, query); st != nil {
		return st.ExecContext(rctx, args...)
	}
	return db.sql.ExecContext(rctx, query, args...)
}

// TxStmt returns query's cached prepared statement bound to tx (InTx's
// transaction), for a store's fixed queries inside write transactions.
// Until the cache has the statement (it is prepared in the background the
// first time), and when the cache is full, query is prepared on tx alone.
// The statement belongs to tx and needs no Close.
func (db *DB) TxStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if e := db.entry(query); e != nil {
		if st := e.st.Load(); st != nil {
			return tx.StmtContext(ctx, st), nil
		}
		// tx holds a pooled connection; preparing the shared statement
		// needs another, which must not be waited for here.
		if e.starting.CompareAndSwap(false, true) {
			db.background(e, query)
		}
	}
	return tx.PrepareContext(ctx, query)
}
