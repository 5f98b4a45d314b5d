package storagetest

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/storage"
)

var txCases = []Case{
	{"tx/rollback spans tables", func(t *testing.T, e *Env) {
		u := e.User(t, "tx")
		boom := errors.New("boom")
		put := e.DB.Upsert("user_records", []string{"domain", "username", "kind", "name"}, []string{"data", "updated_at"})
		err := e.DB.InTx(e.Ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(e.Ctx, put, u.Domain(), u.Local(), "t", "x", []byte("1"), 0); err != nil {
				return err
			}
			if _, err := tx.ExecContext(e.Ctx, e.DB.Rebind("DELETE FROM scram_credentials WHERE domain = ? AND username = ?"), u.Domain(), u.Local()); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("InTx = %v, want the callback's error unchanged", err)
		}
		if l, _ := e.DB.Records("t").List(e.Ctx, u); len(l) != 0 {
			t.Error("record written by a rolled back transaction")
		}
		var n int
		if err := e.DB.SQL().QueryRowContext(e.Ctx, e.DB.Rebind("SELECT count(*) FROM scram_credentials WHERE domain = ? AND username = ?"), u.Domain(), u.Local()).Scan(&n); err != nil || n != 3 {
			t.Errorf("credentials after rollback: %d, %v", n, err)
		}
	}},
	{"tx/panic rolls back", func(t *testing.T, e *Env) {
		u := e.User(t, "panic")
		func() {
			defer func() { recover() }()
			e.DB.InTx(e.Ctx, func(tx *sql.Tx) error {
				tx.ExecContext(e.Ctx, e.DB.Rebind("DELETE FROM accounts WHERE domain = ? AND username = ?"), u.Domain(), u.Local())
				panic("oops")
			})
		}()
		if ok, err := e.Accounts.Exists(e.Ctx, u); err != nil || !ok {
			t.Errorf("account gone after a panicking transaction: %v, %v", ok, err)
		}
	}},
	{"tx/concurrent read-modify-write is serialized", func(t *testing.T, e *Env) {
		// Each transaction reads a counter and writes it plus one. Lost
		// updates would show as a total below n: conflicting transactions
		// must fail (busy, deadlock, serialization failure) and be retried.
		u := e.User(t, "counter")
		get := e.DB.Rebind("SELECT data FROM user_records WHERE domain = ? AND username = ? AND kind = 'counter' AND name = ''")
		put := e.DB.Upsert("user_records", []string{"domain", "username", "kind", "name"}, []string{"data", "updated_at"})
		const n = 10
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := e.DB.InTx(e.Ctx, func(tx *sql.Tx) error {
					var data []byte
					err := tx.QueryRowContext(e.Ctx, get, u.Domain(), u.Local()).Scan(&data)
					if err != nil && !errors.Is(err, sql.ErrNoRows) {
						return err
					}
					v, _ := strconv.Atoi(string(data))
					_, err = tx.ExecContext(e.Ctx, put, u.Domain(), u.Local(), "counter", "", []byte(strconv.Itoa(v+1)), 0)
					return err
				})
				if err != nil {
					t.Errorf("InTx: %v", err)
				}
			}()
		}
		wg.Wait()
		rec, _, err := e.DB.Records("counter").Get(e.Ctx, u, "")
		if err != nil || string(rec.Data) != strconv.Itoa(n) {
			t.Errorf("counter = %q, %v; want %d", rec.Data, err, n)
		}
	}},
	{"tx/atomic spans stores", func(t *testing.T, e *Env) {
		// Atomic makes the stores' own transactions one: an account, its
		// records and its queue commit or fail together.
		j := e.JID(t, "whole@D")
		boom := errors.New("boom")
		write := func(fail bool) error {
			return e.DB.Atomic(e.Ctx, func(ctx context.Context) error {
				if err := e.Accounts.Create(ctx, j, "pw"); err != nil {
					return err
				}
				if err := e.DB.Records("vcard").Put(ctx, j, []storage.Record{{Data: []byte("<vCard xmlns='vcard-temp'/>")}}, 0); err != nil {
					return err
				}
				if err := e.DB.Queue("offline").Push(ctx, j, []byte("<message/>"), time.Now(), 0); err != nil {
					return err
				}
				if fail {
					return boom
				}
				return nil
			})
		}
		if err := write(true); !errors.Is(err, boom) {
			t.Fatalf("Atomic = %v", err)
		}
		if ok, _ := e.Accounts.Exists(e.Ctx, j); ok {
			t.Fatal("account of a failed Atomic exists")
		}
		if err := write(false); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := e.DB.Records("vcard").Get(e.Ctx, j, ""); !found {
			t.Error("record of a committed Atomic missing")
		}
		if n, _ := e.DB.Queue("offline").Len(e.Ctx, j); n != 1 {
			t.Errorf("queue of a committed Atomic has %d items", n)
		}
	}},
	{"tx/upsert without update columns ignores duplicates", func(t *testing.T, e *Env) {
		u := e.User(t, "ups")
		grp := "g-" + e.Domain
		if _, err := e.DB.SQL().ExecContext(e.Ctx, e.DB.Rebind("INSERT INTO shared_groups (name, display, created_at) VALUES (?, ?, 0)"), grp, "G"); err != nil {
			t.Fatal(err)
		}
		stmt := e.DB.Upsert("shared_group_members", []string{"grp", "domain", "username"}, nil)
		for range 2 {
			if _, err := e.DB.SQL().ExecContext(e.Ctx, stmt, grp, u.Domain(), u.Local()); err != nil {
				t.Fatalf("key-only upsert: %v", err)
			}
		}
		var n int
		if err := e.DB.SQL().QueryRowContext(e.Ctx, e.DB.Rebind("SELECT count(*) FROM shared_group_members WHERE grp = ?"), grp).Scan(&n); err != nil || n != 1 {
			t.Errorf("rows = %d, %v; want 1", n, err)
		}
	}},
}

// checkSchema compares the tables and columns of db with those of a fresh
// SQLite database: every engine has the same schema in its own dialect.
func checkSchema(t *testing.T, db *storage.DB) {
	got := columns(t, db)
	if db.Driver() == "sqlite" {
		if len(got) == 0 {
			t.Fatal("no tables")
		}
		return
	}
	want := columns(t, Open(t, "sqlite"))
	for table, cols := range want {
		if got[table] != cols {
			t.Errorf("%s table %s has columns %q; sqlite has %q", db.Driver(), table, got[table], cols)
		}
	}
	for table := range got {
		if _, ok := want[table]; !ok {
			t.Errorf("%s has table %s that sqlite lacks", db.Driver(), table)
		}
	}
	v, err := db.Version(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := Open(t, "sqlite").Version(t.Context())
	if v != ref {
		t.Errorf("%s schema version %d, sqlite %d", db.Driver(), v, ref)
	}
}

// columns maps each table (but goose's) to its column names, sorted and
// joined with spaces.
func columns(t *testing.T, db *storage.DB) map[string]string {
	t.Helper()
	var q string
	switch db.Driver() {
	case "sqlite":
		q = "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.name"
	case "postgres":
		q = "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, column_name"
	case "mysql":
		q = "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, column_name"
	}
	rows, err := db.SQL().QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		if table == "goose_db_version" {
			continue
		}
		if out[table] != "" {
			out[table] += " "
		}
		out[table] += col
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
