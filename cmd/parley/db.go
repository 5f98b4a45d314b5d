package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage"
)

func newDBCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the database: schema migrations, status, backup",
		Long: `Manage the database that [storage] configures (sqlite, postgres or mysql).
The server migrates the schema itself when it starts; "parley db migrate"
does it beforehand, "parley db status" shows where the schema is without
changing it, and "parley db backup FILE" copies an SQLite database while
the server runs (for PostgreSQL and MySQL use pg_dump or mysqldump, see
docs/storage.md).`,
		RunE: groupRun,
	}
	cmd.AddCommand(newDBMigrateCmd(), newDBStatusCmd(), newDBBackupCmd())
	return cmd
}

func newDBMigrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema up to date",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, true, func(ctx context.Context, _ config.Config, db *storage.DB) error {
				v, err := db.Version(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: schema at version %d\n", db.Describe(), v)
				return nil
			})
		},
	}
}

func newDBStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the schema version and pending migrations (changes nothing)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, false, func(ctx context.Context, _ config.Config, db *storage.DB) error {
				st, err := db.Status(ctx)
				if err != nil {
					return err
				}
				v, err := db.Version(ctx)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				fmt.Fprintf(out, "%s: schema at version %d\n", db.Describe(), v)
				pending := 0
				for _, m := range st {
					state := "pending"
					if m.Applied {
						state = "applied " + m.At.UTC().Format("2006-01-02 15:04:05Z")
					} else {
						pending++
					}
					fmt.Fprintf(out, "  %05d  %-28s %s\n", m.Version, m.Name, state)
				}
				if pending > 0 {
					fmt.Fprintf(out, "%d migration(s) pending: run \"parley db migrate\" (the server also applies them when it starts)\n", pending)
				} else {
					fmt.Fprintln(out, "up to date")
				}
				return nil
			})
		},
	}
}

func newDBBackupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy the SQLite database to FILE, online",
		Args:  exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, false, func(ctx context.Context, _ config.Config, db *storage.DB) error {
				if err := db.Backup(ctx, args[0]); err != nil {
					if errors.Is(err, storage.ErrBackupUnsupported) {
						return fmt.Errorf("%s: %w", db.Describe(), err)
					}
					return err
				}
				fi, err := os.Stat(args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "backup of %s written to %s (%d bytes)\n", db.Describe(), args[0], fi.Size())
				return nil
			})
		},
	}
}

// withDB opens the configured database, migrating it when migrate is
// set, and runs fn.
func withDB(cmd *cobra.Command, migrate bool, fn func(context.Context, config.Config, *storage.DB) error) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	open := storage.OpenNoMigrate
	if migrate {
		open = storage.Open
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(ctx, cfg, db)
}
