// Package storage owns the database connection: opening it from the
// configuration on one of three engines (SQLite through modernc.org/sqlite,
// PostgreSQL through pgx, MySQL 8 / MariaDB 10.11 through
// go-sql-driver/mysql), tuning it (for SQLite: WAL journal, busy timeout,
// foreign keys, synchronous=NORMAL, immediate write transactions; for the
// servers: pool sizes, strict SQL mode, byte-order text keys), bringing the
// schema up to date with the embedded goose migrations (one directory per
// engine, migrations/<driver>/NNNNN_name.sql, the same schema in each
// dialect), and running write transactions that are retried when that is
// safe: busy database, deadlock or serialization failure (PostgreSQL and
// MySQL run them SERIALIZABLE, so that they mean what they mean on SQLite),
// and an unreachable database (a restart) for up to storage.retry_timeout.
// A transaction whose commit was cut off is reported as failed
// (ErrCommitUnknown), never retried and never taken for a success.
// DB.Atomic makes the transactions of several stores one (an import writes
// an account, its roster and its records all or nothing).
//
// It hides the SQL differences between engines behind a small dialect
// table (placeholder style, upsert syntax, which errors to retry) so that
// the stores built on it write portable SQL: see DB.Rebind and DB.Upsert.
// It also provides four shared stores, Records (small per-user keyed
// records), Queue (per-user ordered queues), Archive (the XEP-0313
// message archive of any owner JID: one row per message for both its
// parties, JIDs interned as integers, server-assigned time-ordered ids,
// filtered and paged queries, purge and retention, and appends made
// durable by group commit: one committer goroutine writes every waiting
// append in one transaction, on SQLite with synchronous=FULL) and
// FastTokens (XEP-0484 FAST tokens, stored only as hashes, per account and
// user agent, with replay counters, rotation and a limit per account), the
// stored-XML codec, an
// online backup of SQLite databases (DB.Backup), and a cache of prepared
// statements for the stores' fixed queries (DB.Query, QueryRow, Exec and,
// inside InTx, TxStmt), which spares the hot paths (a login's reads)
// parsing and planning their SQL every time.
//
// It does not own any other table's contents or queries: the account,
// roster and other packages own their SQL; storage only owns the schema
// migrations. The test suite every engine must pass is in storagetest.
package storage
