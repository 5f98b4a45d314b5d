package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status: 0 on
// success, 1 on any error (printed on stderr, without the usage text
// unless the command line itself was wrong).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	printError(stderr, cmd, err)
	return 1
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "parley",
		Short: "Parley, an XMPP server",
		Long: `Parley is an XMPP server. Run it with "parley serve"; manage accounts with
"parley user", also while the server is running.`,
		SilenceUsage:  true, // runtime errors are not usage errors
		SilenceErrors: true, // run prints them
	}
	addGlobalFlags(root)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmd: c, err: err}
	})
	root.AddCommand(newServeCmd(), newUserCmd(), newConfigCmd(), newVersionCmd(), newBenchCmd(), newGroupCmd(), newTokenCmd())
	root.AddCommand(newDBCmd(), newExportCmd(), newImportCmd(), newArchiveCmd(), newS2SCmd())
	return root
}

// usageError is a mistake on the command line (unknown flag, wrong number
// of arguments): the message is followed by a pointer to --help.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// exactArgs is cobra.ExactArgs with a message naming the arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return &usageError{cmd: cmd, err: fmt.Errorf("%s takes %d argument(s) (%s), got %d",
				cmd.CommandPath(), len(names), strings.Join(names, " "), len(args))}
		}
		return nil
	}
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{cmd: cmd, err: fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}

// groupRun is the RunE of commands that only group subcommands: it prints
// the help, or refuses an unknown subcommand.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{cmd: cmd, err: fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
	}
	return cmd.Help()
}

// silentError ends the command with status 1 after it has already printed
// what went wrong; msg is a one-line summary for stderr.
type silentError struct{ msg string }

func (e *silentError) Error() string { return e.msg }

func printError(w io.Writer, cmd *cobra.Command, err error) {
	fmt.Fprintf(w, "parley: %v\n", err)
	var ue *usageError
	switch {
	case errors.As(err, &ue) && ue.cmd != nil:
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", ue.cmd.CommandPath())
	case strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag"):
		path := "parley"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", path)
	}
}
