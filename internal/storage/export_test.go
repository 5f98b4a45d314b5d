package storage

import "context"

// MigrateTo applies the migrations up to version, for tests that build a
// database of an older schema and then open it (upgrade tests).
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	_, err := db.migrator.UpTo(ctx, version)
	return err
}

// ExecRaw runs one statement (placeholders as ?), for tests that write
// an older schema's rows by hand.
func (db *DB) ExecRaw(ctx context.Context, query string, args ...any) error {
	_, err := db.sql.ExecContext(ctx, db.Rebind(query), args...)
	return err
}
