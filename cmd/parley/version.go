package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/server"
)

// version is the release version, set at build time with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

func init() {
	// One version everywhere: XEP-0092 answers with server.Version.
	if version == "dev" && server.Version != "dev" {
		version = server.Version
	}
	server.Version = version
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, Go version and source revision",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "parley %s\n", version)
			fmt.Fprintf(w, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(w, "revision: %s\n", revision())
			return nil
		},
	}
}

// revision describes the VCS revision the binary was built from, as
// recorded by the go command ("unknown" when built without VCS
// information, e.g. with -buildvcs=false or from a module download).
func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var rev, when string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return "module " + v
		}
		return "unknown"
	}
	out := rev
	if when != "" {
		out += " (" + when + ")"
	}
	if modified {
		out += " with local changes"
	}
	return out
}
