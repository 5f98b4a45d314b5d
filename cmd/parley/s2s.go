package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/s2s"
)

func newS2SCmd() *cobra.Command {
	var adminAddr string
	cmd := &cobra.Command{
		Use:   "s2s",
		Short: "List and close server-to-server (federation) streams of the running server",
		Long: `List and close the running server's streams to and from other servers. The
commands talk to the server's admin listener (admin.addr, loopback only);
--admin-addr overrides it.`,
	}
	cmd.PersistentFlags().StringVar(&adminAddr, "admin-addr", "", "the running server's admin address (default: admin.addr of the configuration)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the streams: direction, local and remote domain, authentication, TLS, peer address",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var streams []s2s.StreamInfo
			if err := adminCall(cmd, adminAddr, http.MethodGet, "/s2s/streams", &streams); err != nil {
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
			if err := adminCall(cmd, adminAddr, http.MethodPost, "/s2s/close?domain="+url.QueryEscape(args[0]), &res); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "closed %d stream(s) of %s\n", res.Closed, args[0])
			return nil
		},
	}
	cmd.AddCommand(list, closeCmd)
	return cmd
}

// adminCall sends a request to the running server's admin listener and
// decodes the JSON answer into out.
func adminCall(cmd *cobra.Command, addr, method, path string, out any) error {
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
