package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/storage/storagetest"
)

// TestCachedStatements: Query, QueryRow, Exec and TxStmt give the results
// of the unprepared calls on every engine, also past the cache's bound,
// and a context that is already done fails the call.
func TestCachedStatements(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db := storagetest.Open(t, driver)
			ctx := context.Background()
			ins := db.Rebind("INSERT INTO shared_groups (name, display, created_at) VALUES (?, ?, ?)")
			sel := db.Rebind("SELECT display FROM shared_groups WHERE name = ?")
			for i := range 3 {
				if _, err := db.Exec(ctx, ins, fmt.Sprint("g", i), fmt.Sprint("G", i), 1); err != nil {
					t.Fatalf("exec %d: %v", i, err)
				}
			}
			var d string
			if err := db.QueryRow(ctx, sel, "g1").Scan(&d); err != nil || d != "G1" {
				t.Fatalf("query row = %q, %v", d, err)
			}
			if err := db.QueryRow(ctx, sel, "none").Scan(&d); !errors.Is(err, sql.ErrNoRows) {
				t.Fatalf("query row for a missing name: %v", err)
			}
			rows, err := db.Query(ctx, db.Rebind("SELECT name FROM shared_groups WHERE created_at = ? ORDER BY name"), 1)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for rows.Next() {
				var n string
				rows.Scan(&n)
				names = append(names, n)
			}
			rows.Close()
			if fmt.Sprint(names) != "[g0 g1 g2]" {
				t.Fatalf("query = %v", names)
			}
			// In transactions: the first use prepares on the transaction
			// alone, later ones find the shared statement.
			upd := db.Rebind("UPDATE shared_groups SET display = ? WHERE name = ?")
			deadline := time.Now().Add(10 * time.Second)
			for i := 0; i < 3 || time.Now().Before(deadline) && i < 50; i++ {
				err := db.InTx(ctx, func(tx *sql.Tx) error {
					st, err := db.TxStmt(ctx, tx, upd)
					if err != nil {
						return err
					}
					_, err = st.ExecContext(ctx, fmt.Sprint("D", i), "g2")
					return err
				})
				if err != nil {
					t.Fatalf("tx %d: %v", i, err)
				}
				if err := db.QueryRow(ctx, sel, "g2").Scan(&d); err != nil || d != fmt.Sprint("D", i) {
					t.Fatalf("after tx %d: %q, %v", i, d, err)
				}
			}
			// Past the bound the queries still run (unprepared).
			for i := range 300 {
				q := db.Rebind(fmt.Sprintf("SELECT count(*) + %d FROM shared_groups WHERE name <> ?", i))
				var n int
				if err := db.QueryRow(ctx, q, "x").Scan(&n); err != nil || n != 3+i {
					t.Fatalf("query %d = %d, %v", i, n, err)
				}
			}
			done, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := db.Query(done, sel, "g1"); !errors.Is(err, context.Canceled) {
				t.Errorf("query with a done context: %v", err)
			}
			if _, err := db.Exec(done, ins, "g9", "G9", 1); !errors.Is(err, context.Canceled) {
				t.Errorf("exec with a done context: %v", err)
			}
			if err := db.QueryRow(done, sel, "g1").Scan(&d); !errors.Is(err, context.Canceled) {
				t.Errorf("query row with a done context: %v", err)
			}
		})
	}
}
