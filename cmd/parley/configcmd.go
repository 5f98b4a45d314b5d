package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with the configuration file",
		RunE:  groupRun,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Check a configuration file and print each problem with its line",
		Long: `Check the --config file (or the defaults, with --data-dir and --domain
applied): print "config OK", or each problem as FILE:LINE: KEY: MESSAGE and
exit with status 1.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := buildConfig(cmd)
			if err == nil {
				err = cfg.Validate()
			}
			if err == nil {
				fmt.Fprintln(cmd.OutOrStdout(), "config OK")
				return nil
			}
			ps := config.Problems(err)
			for _, p := range ps {
				fmt.Fprintln(cmd.OutOrStdout(), p.Error())
			}
			what := "the defaults"
			if path, ok := globalFlag(cmd, flagConfig); ok && path != "" {
				what = path
			}
			if len(ps) == 1 {
				return &silentError{msg: fmt.Sprintf("1 problem in %s", what)}
			}
			return &silentError{msg: fmt.Sprintf("%d problems in %s", len(ps), what)}
		},
	})
	return cmd
}
