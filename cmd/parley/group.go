package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/features/sharedgroup"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

func newGroupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Manage shared roster groups (works while the server is running)",
		Long: `Manage shared roster groups: the members of a group see each other in their
rosters (subscription "both", under the group's display name) and get each
other's presence, without asking. Members are accounts (user@domain, or
just user for the first configured domain).

Changes made with this command while the server runs take effect when a
member next logs in; changes made in the admin console or its REST API
reach online members at once.`,
		RunE: groupRun,
	}
	cmd.AddCommand(newGroupCreateCmd(), newGroupAddCmd(), newGroupRemoveCmd(), newGroupListCmd(), newGroupDeleteCmd())
	return cmd
}

func newGroupCreateCmd() *cobra.Command {
	var display string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an empty shared group",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGroups(cmd, func(ctx context.Context, _ config.Config, s *sharedgroup.Store) error {
				if err := s.Create(ctx, args[0], display); err != nil {
					return groupError(args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "group %s created\n", args[0])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&display, "display", "", "the group name members see in their rosters (default: NAME)")
	return cmd
}

func newGroupAddCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "add NAME JID...",
		Short: "Add accounts to a shared group",
		Args:  minArgs("NAME", "JID..."),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGroups(cmd, func(ctx context.Context, cfg config.Config, s *sharedgroup.Store) error {
				members, err := memberJIDs(cfg, args[1:])
				if err != nil {
					return err
				}
				if err := s.AddMembers(ctx, args[0], members); err != nil {
					return groupError(args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d member(s) added to %s\n", len(members), args[0])
				return nil
			})
		},
	}
}

func newGroupRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME JID...",
		Short: "Remove accounts from a shared group",
		Args:  minArgs("NAME", "JID..."),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGroups(cmd, func(ctx context.Context, cfg config.Config, s *sharedgroup.Store) error {
				members, err := memberJIDs(cfg, args[1:])
				if err != nil {
					return err
				}
				n, err := s.RemoveMembers(ctx, args[0], members)
				if err != nil {
					return groupError(args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d member(s) removed from %s\n", n, args[0])
				return nil
			})
		},
	}
}

func newGroupListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list [NAME]",
		Short: "List the groups, or the members of one",
		Long: `Without NAME: one line per group, "NAME (DISPLAY): N member(s)". With NAME:
the group's members, one JID per line, sorted.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &usageError{cmd: cmd, err: fmt.Errorf("%s takes at most one argument (NAME), got %d", cmd.CommandPath(), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGroups(cmd, func(ctx context.Context, _ config.Config, s *sharedgroup.Store) error {
				w := bufio.NewWriter(cmd.OutOrStdout())
				if len(args) == 1 {
					g, err := s.Get(ctx, args[0])
					if err != nil {
						return groupError(args[0], err)
					}
					for _, m := range g.Members {
						fmt.Fprintln(w, m)
					}
					return w.Flush()
				}
				groups, err := s.List(ctx)
				if err != nil {
					return err
				}
				for _, g := range groups {
					fmt.Fprintf(w, "%s (%s): %d member(s)\n", g.Name, g.Display, len(g.Members))
				}
				return w.Flush()
			})
		},
	}
}

func newGroupDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a shared group (its members stay accounts)",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGroups(cmd, func(ctx context.Context, _ config.Config, s *sharedgroup.Store) error {
				if err := s.Delete(ctx, args[0]); err != nil {
					return groupError(args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "group %s deleted\n", args[0])
				return nil
			})
		},
	}
}

// minArgs requires the first name and at least one more argument.
func minArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return &usageError{cmd: cmd, err: fmt.Errorf("%s takes %s, got %d argument(s)",
				cmd.CommandPath(), strings.Join(names, " "), len(args))}
		}
		return nil
	}
}

// memberJIDs parses member arguments like user commands do.
func memberJIDs(cfg config.Config, args []string) ([]jid.JID, error) {
	out := make([]jid.JID, 0, len(args))
	for _, a := range args {
		j, err := accountJID(cfg, a)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// withGroups loads the configuration, opens the database and runs fn.
func withGroups(cmd *cobra.Command, fn func(context.Context, config.Config, *sharedgroup.Store) error) error {
	return withDB(cmd, true, func(ctx context.Context, cfg config.Config, db *storage.DB) error {
		return fn(ctx, cfg, sharedgroup.NewStore(db))
	})
}

// groupError turns store errors into messages about group name.
func groupError(name string, err error) error {
	switch {
	case errors.Is(err, sharedgroup.ErrExists):
		return fmt.Errorf("group %s already exists", name)
	case errors.Is(err, sharedgroup.ErrNotFound):
		return fmt.Errorf("group %s does not exist (see 'parley group list')", name)
	case errors.Is(err, sharedgroup.ErrNoAccount):
		return fmt.Errorf("%v; create the account first with 'parley user add'", strings.TrimPrefix(err.Error(), "sharedgroup: add to \""+name+"\": sharedgroup: "))
	case errors.Is(err, sharedgroup.ErrInvalidName):
		return fmt.Errorf("invalid group name: %v", err)
	}
	return err
}
