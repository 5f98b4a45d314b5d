package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/admin"
	"github.com/parleyim/parley/internal/s2s"
)

func newS2SCmd() *cobra.Command {
	var adminAddr, token string
	cmd := &cobra.Command{
		Use:   "s2s",
		Short: "List and close server-to-server (federation) streams of the running server",
		Long: `List and close the running server's streams to and from other servers. The
commands talk to the server's admin listener (admin.addr, loopback only);
--admin-addr overrides it. The listener wants an API token: --token, or
$PARLEY_ADMIN_TOKEN, or else the command makes a short-lived one in the
configured database (so it needs the same configuration and data directory
as the server, and rights to them) and revokes it when done.`,
	}
	cmd.PersistentFlags().StringVar(&adminAddr, "admin-addr", "", "the running server's admin address (default: admin.addr of the configuration)")
	cmd.PersistentFlags().StringVar(&token, "token", "", "an API token from `parley token create` (default: $PARLEY_ADMIN_TOKEN, else a short-lived one)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the streams: direction, local and remote domain, authentication, TLS, peer address",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var streams []s2s.StreamInfo
			if err := adminCall(cmd, adminAddr, token, http.MethodGet, "/s2s/streams", &streams); err != nil {
				return err
			}
			printStreams(cmd.OutOrStdout(), streams)
			return nil
		},
	}
	closeCmd := &cobra.Command{
		Use:   "close DOMAIN",
		Short: "Close every stream to and from a remote domain (the next stanza reconnects)",
		Args:  exactArgs("DOMAIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var res struct{ Closed int }
			if err := adminCall(cmd, adminAddr, token, http.MethodPost, "/s2s/close?domain="+url.QueryEscape(args[0]), &res); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "closed %d stream(s) of %s\n", res.Closed, args[0])
			return nil
		},
	}
	cmd.AddCommand(list, closeCmd)
	return cmd
}

// adminTokenEnv names the environment variable that may hold the token
// for the admin listener.
const adminTokenEnv = "PARLEY_ADMIN_TOKEN"

// withAdminToken runs fn with a token for the admin listener: tok, else
// $PARLEY_ADMIN_TOKEN, else one made for the call in the configured
// database and revoked afterwards (its secret is never shown).
func withAdminToken(cmd *cobra.Command, tok string, fn func(string) error) error {
	if tok == "" {
		tok = strings.TrimSpace(os.Getenv(adminTokenEnv))
	}
	if tok != "" {
		return fn(tok)
	}
	return withTokens(cmd, func(ctx context.Context, s *admin.Store) error {
		t, secret, err := s.CreateToken(ctx, "parley "+cmd.CommandPath()+" (short-lived)")
		if err != nil {
			return fmt.Errorf("making a token for the admin listener (or pass --token): %w", err)
		}
		defer s.RevokeToken(context.WithoutCancel(ctx), t.ID)
		return fn(secret)
	})
}

// adminCall sends a request with a token (withAdminToken) to the running
// server's admin listener and decodes the JSON answer into out.
func adminCall(cmd *cobra.Command, addr, tok, method, path string, out any) error {
	return withAdminToken(cmd, tok, func(tok string) error { return adminRequest(cmd, addr, tok, method, path, out) })
}

func adminRequest(cmd *cobra.Command, addr, tok, method, path string, out any) error {
	if addr == "" {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return err
		}
		if addr = cfg.Admin.Addr; addr == "" {
			return fmt.Errorf("admin.addr is empty in the configuration: the server has no admin listener to ask; pass --admin-addr")
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("admin address %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+net.JoinHostPort(host, port)+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the server's admin listener at %s (is the server running? --admin-addr): %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("the server answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the server's answer: %w", err)
	}
	return nil
}

func printStreams(w io.Writer, streams []s2s.StreamInfo) {
	if len(streams) == 0 {
		fmt.Fprintln(w, "no server-to-server streams")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DIRECTION\tLOCAL\tREMOTE\tAUTH\tTLS\tADDRESS\tSINCE\tQUEUED")
	for _, s := range streams {
		auth := s.Auth
		if auth == "" {
			auth = "(none yet)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s\t%d\n", s.Direction, s.Local, s.Remote, auth, s.TLS, s.Addr,
			s.Since.Format(time.RFC3339), s.Queued)
	}
	tw.Flush()
}
