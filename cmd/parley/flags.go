package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
)

// Names of the persistent flags every command has.
const (
	flagConfig  = "config"
	flagDataDir = "data-dir"
	flagDomain  = "domain"
)

func addGlobalFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.String(flagConfig, "", "configuration `FILE` (TOML); without it the built-in defaults apply")
	pf.String(flagDataDir, "", "data `DIR` for the database and certificates (overrides data_dir)")
	pf.StringSlice(flagDomain, nil, "served domain `D`; repeat or separate with commas (overrides domains)")
}

// globalFlag returns the root's persistent flag name as set on the command
// line. It reads the root's flag set, not cmd.Flags(), because a command
// may define a local flag of the same name (user list --domain filters).
func globalFlag(cmd *cobra.Command, name string) (value string, changed bool) {
	f := cmd.Root().PersistentFlags().Lookup(name)
	if f == nil || !f.Changed {
		return "", false
	}
	return f.Value.String(), true
}

// buildConfig loads the --config file (or the defaults) and applies
// --data-dir and --domain, without validating.
func buildConfig(cmd *cobra.Command) (config.Config, error) {
	cfg := config.Default()
	if path, ok := globalFlag(cmd, flagConfig); ok && path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			return config.Config{}, configError(err)
		}
	}
	if dir, ok := globalFlag(cmd, flagDataDir); ok {
		cfg.DataDir = dir
		cfg.MarkOverridden("data_dir")
	}
	if _, ok := globalFlag(cmd, flagDomain); ok {
		raw, _ := cmd.Root().PersistentFlags().GetStringSlice(flagDomain)
		var domains []string
		for _, d := range raw {
			if d = strings.TrimSpace(d); d == "" {
				continue
			}
			// Flags are typed by hand: accept any case and form jid accepts.
			if j, err := jid.New("", d, ""); err == nil && j.IsDomain() {
				d = j.Domain()
			}
			domains = append(domains, d)
		}
		cfg.Domains = domains
		cfg.MarkOverridden("domains")
	}
	return cfg, nil
}

// loadConfig is what every command that needs a configuration calls: the
// file or the defaults, with --data-dir and --domain applied, validated.
func loadConfig(cmd *cobra.Command) (config.Config, error) {
	cfg, err := buildConfig(cmd)
	if err != nil {
		return config.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, configError(err)
	}
	return cfg, nil
}

// configError formats configuration problems one per line.
func configError(err error) error {
	ps := config.Problems(err)
	if len(ps) == 1 {
		return fmt.Errorf("configuration: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "configuration has %d problems:", len(ps))
	for _, p := range ps {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return fmt.Errorf("%s%w", b.String(), wrapOnly{err})
}

// wrapOnly keeps an error in the chain (for errors.Is/As) without adding
// to the message.
type wrapOnly struct{ err error }

func (w wrapOnly) Error() string { return "" }
func (w wrapOnly) Unwrap() error { return w.err }
