package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

func newUserCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage accounts (works while the server is running)",
		Long: `Manage accounts. A JID is user@domain, or just user for the first configured
domain. The domain must be one the server serves (domains in the config, or
--domain). These commands open the same database as the server and can be
used while it runs.`,
		RunE: groupRun,
	}
	cmd.AddCommand(newUserAddCmd(), newUserPasswdCmd(), newUserDelCmd(), newUserListCmd(),
		newUserDisableCmd(true), newUserDisableCmd(false))
	return cmd
}

const passwordHelp = "the password (visible to other local users in the process list; without it the password is prompted for, or read as one line from standard input)"

func newUserAddCmd() *cobra.Command {
	return newPasswordCmd("add JID", "Create an account", false, (*account.Store).Create, "user %s added")
}

func newUserPasswdCmd() *cobra.Command {
	return newPasswordCmd("passwd JID", "Change the password of an account", true, (*account.Store).SetPassword,
		"password of %s changed")
}

// newPasswordCmd is a command that takes a JID and a password: `user add`
// (the account must not exist yet) and `user passwd` (it must exist). It
// checks existence before asking for the password, then applies it.
func newPasswordCmd(use, short string, mustExist bool,
	apply func(*account.Store, context.Context, jid.JID, string) error, done string) *cobra.Command {
	var password string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs("JID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccounts(cmd, func(ctx context.Context, cfg config.Config, s *account.Store) error {
				j, err := accountJID(cfg, args[0])
				if err != nil {
					return err
				}
				// Fail before asking for a password when we already know.
				if ok, err := s.Exists(ctx, j); err != nil {
					return err
				} else if ok && !mustExist {
					return fmt.Errorf("user %s already exists", j)
				} else if !ok && mustExist {
					return fmt.Errorf("user %s does not exist", j)
				}
				pw, err := passwordFor(cmd, password, true)
				if err != nil {
					return err
				}
				if err := apply(s, ctx, j, pw); err != nil {
					return userError(j, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), done+"\n", j)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&password, "password", "", passwordHelp)
	return cmd
}

func newUserDelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "del JID",
		Short: "Delete an account and its credentials",
		Args:  exactArgs("JID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccount(cmd, args[0], func(ctx context.Context, s *account.Store, j jid.JID) error {
				if err := s.Delete(ctx, j); err != nil {
					return userError(j, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "user %s deleted\n", j)
				return nil
			})
		},
	}
}

// newUserDisableCmd is `user disable` (disable true) or `user enable`: a
// disabled account cannot log in (account-disabled). Sessions it has on a
// running server stay until they end; the XEP-0133 disable-user command
// ends them too.
func newUserDisableCmd(disable bool) *cobra.Command {
	use, short, done := "enable JID", "Let a disabled account log in again", "enabled"
	if disable {
		use, short, done = "disable JID", "Disable an account: it cannot log in until enabled again", "disabled"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs("JID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccount(cmd, args[0], func(ctx context.Context, s *account.Store, j jid.JID) error {
				if err := s.SetDisabled(ctx, j, disable); err != nil {
					return userError(j, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "user %s %s\n", j, done)
				return nil
			})
		},
	}
}

func newUserListCmd() *cobra.Command {
	var domain string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List accounts, one JID per line, sorted",
		Long: `List accounts, one JID per line, sorted. Without --domain, the accounts of
every domain in the database are listed (including domains no longer served).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAccounts(cmd, func(ctx context.Context, cfg config.Config, s *account.Store) error {
				if domain != "" {
					d, err := jid.New("", domain, "")
					if err != nil || !d.IsDomain() {
						return fmt.Errorf("invalid domain %q: %v", domain, err)
					}
					if !cfg.Serves(d.Domain()) {
						return notServed(cfg, d.Domain())
					}
					domain = d.Domain()
				}
				accounts, err := s.List(ctx, domain)
				if err != nil {
					return err
				}
				names := make([]string, len(accounts))
				for i, j := range accounts {
					names[i] = j.String()
				}
				slices.Sort(names)
				w := bufio.NewWriter(cmd.OutOrStdout())
				for _, n := range names {
					fmt.Fprintln(w, n)
				}
				return w.Flush()
			})
		},
	}
	// Shadows the global --domain: here it filters instead of overriding
	// the served domains.
	cmd.Flags().StringVar(&domain, flagDomain, "", "list only the accounts of domain `D`")
	return cmd
}

// withAccounts loads the configuration, opens the database and runs fn.
func withAccounts(cmd *cobra.Command, fn func(context.Context, config.Config, *account.Store) error) error {
	return withDB(cmd, true, func(ctx context.Context, cfg config.Config, db *storage.DB) error {
		return fn(ctx, cfg, account.NewStore(db, cfg.Auth.ScramIterations).UseHashes(account.HashesNamed(cfg.Auth.ScramHashes)...))
	})
}

// accountJID parses the JID argument of a user command: user@domain or a
// bare user for the default domain; bare, with a localpart, on a served
// domain. The result is normalised (Alice@LOCALHOST → alice@localhost).
// withAccount is withAccounts for a command on the one account named by
// arg.
func withAccount(cmd *cobra.Command, arg string, fn func(context.Context, *account.Store, jid.JID) error) error {
	return withAccounts(cmd, func(ctx context.Context, cfg config.Config, s *account.Store) error {
		j, err := accountJID(cfg, arg)
		if err != nil {
			return err
		}
		return fn(ctx, s, j)
	})
}

func accountJID(cfg config.Config, arg string) (jid.JID, error) {
	var j jid.JID
	var err error
	if !strings.Contains(arg, "@") {
		local, resource, _ := strings.Cut(arg, "/")
		if resource == "" && strings.HasSuffix(arg, "/") {
			resource = "/" // let jid report the empty resource
		}
		j, err = jid.New(local, cfg.DefaultDomain(), resource)
	} else {
		j, err = jid.Parse(arg)
	}
	if err != nil {
		return jid.JID{}, fmt.Errorf("invalid JID %q: %w", arg, err)
	}
	if j.Local() == "" {
		return jid.JID{}, fmt.Errorf("invalid JID %q: no user part; write it as user@%s", arg, j.Domain())
	}
	if !j.IsBare() {
		return jid.JID{}, fmt.Errorf("invalid JID %q: accounts have no resource; write it as %s", arg, j.Bare())
	}
	if !cfg.Serves(j.Domain()) {
		return jid.JID{}, notServed(cfg, j.Domain())
	}
	return j, nil
}

func notServed(cfg config.Config, domain string) error {
	return fmt.Errorf("domain %s is not served by this server (served: %s); add it to domains in the config",
		domain, strings.Join(cfg.Domains, ", "))
}

// userError turns account errors into messages about user j.
func userError(j jid.JID, err error) error {
	switch {
	case errors.Is(err, account.ErrExists):
		return fmt.Errorf("user %s already exists", j)
	case errors.Is(err, account.ErrNotFound):
		return fmt.Errorf("user %s does not exist", j)
	case errors.Is(err, account.ErrWeakPassword):
		return errors.New("the password must not be empty")
	case errors.Is(err, account.ErrInvalidPassword):
		return errors.New("the password contains characters that are not allowed (control characters, for example)")
	}
	return err
}

// passwordFor returns the --password value if it was given, else reads
// the password: from the terminal (asked twice when confirm), or as one
// line from standard input when that is not a terminal.
func passwordFor(cmd *cobra.Command, flagValue string, confirm bool) (string, error) {
	if cmd.Flags().Changed("password") {
		return flagValue, nil
	}
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return promptPassword(int(f.Fd()), cmd.ErrOrStderr(), confirm)
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("no password given: use --password, type it at the prompt, or pipe it as one line on standard input")
		}
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func promptPassword(fd int, w io.Writer, confirm bool) (string, error) {
	fmt.Fprint(w, "Password: ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(w)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if !confirm {
		return string(p1), nil
	}
	fmt.Fprint(w, "Repeat password: ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(w)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(p1) != string(p2) {
		return "", errors.New("the passwords do not match")
	}
	return string(p1), nil
}
