package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/admin"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage"
)

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage tokens of the admin REST API (works while the server is running)",
		Long: `Manage the bearer tokens of the admin REST API (/api/v1 on admin.addr).
A token is shown once, when it is created; only a hash of it is stored.
Send it as "Authorization: Bearer <token>".`,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newTokenCreateCmd(), newTokenListCmd(), newTokenRevokeCmd())
	return cmd
}

func withTokens(cmd *cobra.Command, fn func(context.Context, *admin.Store) error) error {
	return withDB(cmd, true, func(ctx context.Context, _ config.Config, db *storage.DB) error {
		return fn(ctx, admin.NewStore(db))
	})
}

func newTokenCreateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "create NAME",
		Short: "Create a token; NAME says what it is for. Prints the token once",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTokens(cmd, func(ctx context.Context, s *admin.Store) error {
				t, secret, err := s.CreateToken(ctx, args[0])
				if err != nil {
					return err
				}
				if err := s.Audit(ctx, admin.AuditEntry{Actor: "cli", Action: "token.create", Target: t.ID, Detail: t.Name, Remote: "local"}); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), secret)
				fmt.Fprintf(cmd.ErrOrStderr(), "token %s (%s) created; it is shown only now\n", t.ID, t.Name)
				return nil
			})
		},
	}
}

func newTokenListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List tokens (ID, name, created, last used)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTokens(cmd, func(ctx context.Context, s *admin.Store) error {
				ts, err := s.Tokens(ctx)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tCREATED\tLAST USED")
				for _, t := range ts {
					used := "never"
					if !t.LastUsed.IsZero() {
						used = t.LastUsed.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Created.UTC().Format(time.RFC3339), used)
				}
				return w.Flush()
			})
		},
	}
}

func newTokenRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token (by the ID 'parley token list' shows)",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTokens(cmd, func(ctx context.Context, s *admin.Store) error {
				id := strings.TrimSpace(args[0])
				if err := s.RevokeToken(ctx, id); err != nil {
					if errors.Is(err, admin.ErrNoToken) {
						return fmt.Errorf("no token %s (see 'parley token list')", id)
					}
					return err
				}
				if err := s.Audit(ctx, admin.AuditEntry{Actor: "cli", Action: "token.revoke", Target: id, Remote: "local"}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "token %s revoked\n", id)
				return nil
			})
		},
	}
}
