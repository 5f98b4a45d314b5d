// Package storage owns the database connection: opening it from the
// configuration, tuning it (for SQLite: WAL journal, busy timeout, foreign
// keys, synchronous=NORMAL, immediate write transactions), bringing the
// schema up to date with the embedded goose migrations, and running
// transactions that are retried when the database is busy. Because of WAL
// and the busy timeout, several processes (the server and `parley user`
// commands) can use the same SQLite database at once.
//
// It also hides the SQL differences between engines behind a small dialect
// table (placeholder style, upsert syntax, busy errors) so that the stores
// built on it write portable SQL: see DB.Rebind and DB.Upsert. Only SQLite
// is implemented; PostgreSQL and MySQL plug in as new dialect entries and
// migration directories.
//
// It does not own any table's contents or queries: the account package (and
// later stores) own their SQL; storage only owns the schema migrations,
// which live in migrations/<dialect>/ as goose SQL files.
package storage
