package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage"
)

func newArchiveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "archive",
		Short: "Manage message archives (XEP-0313; works while the server is running)",
		RunE:  groupRun,
	}
	cmd.AddCommand(newArchivePurgeCmd())
	return cmd
}

func newArchivePurgeCmd() *cobra.Command {
	var before string
	cmd := &cobra.Command{
		Use:   "purge JID",
		Short: "Remove an account's archived messages (all, or those archived before --before)",
		Long: `Remove the archived messages of one account: all of them, or with --before
DATE those archived before DATE (2006-01-02, or a date and time such as
2006-01-02T15:04:05Z). The account itself and its other data stay.`,
		Args: exactArgs("JID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, true, func(ctx context.Context, cfg config.Config, db *storage.DB) error {
				j, err := accountJID(cfg, args[0])
				if err != nil {
					return err
				}
				at, err := parseBefore(before)
				if err != nil {
					return err
				}
				n, err := db.Archive().Purge(ctx, j, at)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d archived messages of %s removed\n", n, j)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&before, "before", "", "remove only messages archived before this `DATE` (2006-01-02 or RFC 3339)")
	return cmd
}

// parseBefore reads --before: empty (everything), a date (midnight UTC)
// or an RFC 3339 date and time.
func parseBefore(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--before %q: write a date as 2006-01-02 or a date and time as 2006-01-02T15:04:05Z", s)
}
