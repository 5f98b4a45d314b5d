package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/portable"
	"github.com/parleyim/parley/internal/server"
	"github.com/parleyim/parley/internal/storage"
)

func newExportCmd() *cobra.Command {
	var out, domain string
	cmd := &cobra.Command{
		Use:   "export --out FILE",
		Short: "Write accounts and their data to a XEP-0227 file",
		Long: `Write the accounts of the served domains (or of --domain) with their SCRAM
credentials, rosters, pending subscription requests, vCards, private XML,
offline messages, block lists and last activity to FILE in the portable
XEP-0227 format, which "parley import" and other XMPP servers read. FILE
holds password hashes: it is created readable by its owner only, and an
existing FILE is not overwritten. Works while the server runs.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &usageError{cmd: cmd, err: errors.New("--out FILE is required")}
			}
			return withDB(cmd, true, func(ctx context.Context, cfg config.Config, db *storage.DB) error {
				domains := cfg.Domains
				if domain != "" {
					d, err := jid.New("", domain, "")
					if err != nil || !d.IsDomain() {
						return fmt.Errorf("invalid domain %q: %v", domain, err)
					}
					domains = []string{d.Domain()}
				}
				sum, err := exportTo(ctx, portable.NewStores(db, cfg.Auth.ScramIterations, server.UserData(db)...), out, domains)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "exported %d account(s) of %d domain(s) (%d roster items, %d offline messages) to %s\n",
					sum.Users, sum.Hosts, sum.RosterItems, sum.OfflineMessages, out)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the `FILE` to write (must not exist)")
	// Shadows the global --domain: here it selects what to export.
	cmd.Flags().StringVar(&domain, flagDomain, "", "export only the accounts of domain `D`")
	return cmd
}

// exportTo writes the export next to path and moves it into place once
// complete, so that path is never a partial file.
func exportTo(ctx context.Context, st portable.Stores, path string, domains []string) (portable.ExportSummary, error) {
	if _, err := os.Lstat(path); err == nil {
		return portable.ExportSummary{}, fmt.Errorf("%s exists; not overwriting it", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".parley-export-*")
	if err != nil {
		return portable.ExportSummary{}, err
	}
	defer os.Remove(tmp.Name())
	sum, err := portable.Export(ctx, st, tmp, domains)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sum, err
	}
	if err := os.Link(tmp.Name(), path); err != nil { // fails if path appeared meanwhile
		return sum, err
	}
	return sum, nil
}

func newImportCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import accounts and their data from XEP-0227 files",
		Long: `Import accounts from XEP-0227 files: Parley's own "parley export", ejabberd's
"ejabberdctl export_piefxis" (give the main file; the host files it includes
are read too), Openfire's user import/export plugin, Prosody's
mod_storage_xep0227 (one file per user: give them all). Passwords are hashed
on import; SCRAM credentials are kept as they are. Accounts of domains this
server does not serve, accounts that exist already, duplicates and invalid
JIDs are skipped and reported; each account is imported whole or not at all.
A file that is not well-formed XML, is truncated or has a DTD stops the
import before anything is written. Exits with status 1 when any account was
skipped. Works while the server runs.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{cmd: cmd, err: errors.New("import takes at least one FILE")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, true, func(ctx context.Context, cfg config.Config, db *storage.DB) error {
				st := portable.NewStores(db, cfg.Auth.ScramIterations, server.UserData(db)...)
				st.Accounts.UseHashes(account.HashesNamed(cfg.Auth.ScramHashes)...) // for passwords hashed on import
				rep, err := portable.Import(ctx, st, args,
					portable.ImportOptions{Domains: cfg.Domains, DryRun: dryRun})
				if rep != nil {
					rep.Write(cmd.OutOrStdout())
				}
				if err != nil {
					return err
				}
				if len(rep.Skipped) > 0 {
					return &silentError{msg: fmt.Sprintf("%d account(s) skipped (listed above)", len(rep.Skipped))}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the files and report, without writing")
	return cmd
}
