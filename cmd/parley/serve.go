package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/server"
	"github.com/spf13/cobra"
)

// serveFlags are the flags only `serve` has; each overrides its config key.
type serveFlags struct {
	c2sAddr, c2sTLSAddr, adminAddr, httpAddr, httpTLSAddr, logLevel, s2sAddr string
	allowRegistration, insecurePlaintext                                     bool
	admins                                                                   []string
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the XMPP server",
		Long: `Run the XMPP server. With no configuration it serves the domain localhost,
keeps its data (SQLite database, self-signed certificate) in ./parley-data,
listens for clients on :5222 (STARTTLS) and :5223 (direct TLS), for other
servers on :5269 (federation), and serves
/metrics and /healthz on 127.0.0.1:9090.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if err := f.apply(cmd, &cfg); err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.c2sAddr, "c2s-addr", "", "client STARTTLS listener address (config c2s.addr, default :5222)")
	fl.StringVar(&f.c2sTLSAddr, "c2s-tls-addr", "", "client direct-TLS listener address (config c2s.tls_addr, default :5223)")
	fl.StringVar(&f.s2sAddr, "s2s-addr", "", "server-to-server listener address (config s2s.addr, default :5269; \"\" accepts no inbound federation)")
	fl.StringVar(&f.adminAddr, "admin-addr", "", "admin/metrics HTTP address (config admin.addr, default 127.0.0.1:9090)")
	fl.StringVar(&f.httpAddr, "http-addr", "", "public HTTP address for WebSocket and BOSH (config http.addr, default :5280; \"\" disables)")
	fl.StringVar(&f.httpTLSAddr, "http-tls-addr", "", "public HTTPS address for WebSocket and BOSH (config http.tls_addr, default :5281; \"\" disables)")
	fl.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error (config log.level)")
	fl.BoolVar(&f.allowRegistration, "allow-registration", false, "allow in-band registration (XEP-0077)")
	fl.StringArrayVar(&f.admins, "admin", nil, "a server administrator's bare `JID`, added to the config's admins (repeatable)")
	fl.BoolVar(&f.insecurePlaintext, "insecure-plaintext", false, "let clients skip TLS and use PLAIN in the clear (benchmarks and trusted networks only)")
	return cmd
}

func (f *serveFlags) apply(cmd *cobra.Command, cfg *config.Config) error {
	ch := cmd.Flags().Changed
	if ch("c2s-addr") {
		cfg.C2S.Addr = f.c2sAddr
	}
	if ch("c2s-tls-addr") {
		cfg.C2S.TLSAddr = f.c2sTLSAddr
	}
	if ch("s2s-addr") {
		cfg.S2S.Addr = f.s2sAddr
	}
	if ch("admin-addr") {
		cfg.Admin.Addr = f.adminAddr
	}
	if ch("http-addr") {
		cfg.HTTP.Addr = f.httpAddr
	}
	if ch("http-tls-addr") {
		cfg.HTTP.TLSAddr = f.httpTLSAddr
	}
	if ch("log-level") {
		cfg.Log.Level = f.logLevel
	}
	if ch("allow-registration") {
		cfg.AllowRegistration = f.allowRegistration
	}
	if ch("insecure-plaintext") {
		cfg.C2S.InsecurePlaintext = f.insecurePlaintext
	}
	if ch("admin") {
		cfg.Admins = append(cfg.Admins, f.admins...)
		cfg.MarkOverridden("admins")
	}
	return cfg.Validate()
}

// serve runs the server until SIGINT/SIGTERM, then shuts down cleanly.
func serve(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	log := newLogger(cfg.Log, stderr)
	slog.SetDefault(log) // packages that log before wiring (storage, tlsutil) use the same handler
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	printBanner(stdout, cfg, srv)
	if cfg.C2S.InsecurePlaintext {
		log.Warn("INSECURE: --insecure-plaintext is on: clients may log in with PLAIN over unencrypted connections; use only for benchmarks or on trusted networks")
	}
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func printBanner(w io.Writer, cfg config.Config, srv *server.Server) {
	fmt.Fprintf(w, "Parley %s serving %s (data in %s)\n", server.Version, strings.Join(cfg.Domains, ", "), cfg.DataDir)
	for _, l := range []struct{ name, what string }{
		{"c2s", "clients, STARTTLS"},
		{"c2s-tls", "clients, direct TLS"},
		{"s2s", "servers, STARTTLS"},
		{"s2s-tls", "servers, direct TLS"},
		{"components", "components (XEP-0114)"},
		{"admin", "admin: /metrics /healthz"},
		{"http", "web clients: /xmpp-websocket /http-bind"},
		{"http-tls", "web clients over HTTPS"},
	} {
		if a := srv.Addr(l.name); a != "" {
			fmt.Fprintf(w, "  listening on %-22s (%s)\n", a, l.what)
		}
	}
	fmt.Fprintf(w, "Add a user with:\n  parley user add alice@%s --data-dir %s\n", cfg.Domains[0], cfg.DataDir)
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
