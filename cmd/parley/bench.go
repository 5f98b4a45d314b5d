package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/tools/loadtest"
)

// benchFlags are the flags every `parley bench` scenario shares.
type benchFlags struct {
	addr, mech, caFile, prefix, password, label, jsonOut, keyCache, mucService, via  string
	websocket                                                                        string
	mode, to                                                                         string
	starttls, directTLS, insecure, noProgress                                        bool
	persistentRooms, sm                                                              bool
	n, concurrency, pairs, window, rooms, roomSize, contacts, bodySize, pid, sources int
	duration, timeout                                                                time.Duration
	rate                                                                             float64
}

func newBenchCmd() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test an XMPP server (Parley or any other) on loopback",
		Long: `Run a load scenario against an XMPP server listening on a loopback address and
print what it measured: a table on standard output and, with --json, one JSON
line per run. --server-pid makes it read the server's CPU time and memory from
/proc. Scenarios:

  register  create -n accounts (XEP-0077, or --via store for Parley's database)
  login     -n clients log in at --concurrency: rate, latency, server CPU per login
  idle      hold -n sessions for --duration, ping each: memory per session
  unauth    hold -n connections that never authenticate for --duration, in
            --mode tcp, header, tls or tls-header: memory per connection
  chat      --pairs pairs exchange messages at --rate (0: flat out) for --duration,
            to each other's bare JID (--to full: to the bound resource)
  muc       --rooms rooms of --room-size occupants send at --rate (0: flat out)
            on --muc-service
  presence  -n users with --contacts mutual contacts log in: time until all
            contacts' presence has arrived
  resume    -n sessions enable stream management (XEP-0198), drop their connections
            at once and resume at --concurrency: rate, latency, server CPU per resume
  report    turn JSON lines into the Markdown tables of docs/benchmarks.md

bench/compare.sh runs them all against Parley, Prosody and ejabberd.`,
		RunE: groupRun,
	}
	f.register(cmd)
	for _, s := range []struct {
		name, short string
		run         func(context.Context, *benchFlags, loadtest.Options, *cobra.Command) (loadtest.Result, error)
	}{
		{"register", "Create accounts", runRegister},
		{"login", "Measure logins", plain(loadtest.Login)},
		{"idle", "Measure idle sessions", plain(loadtest.Idle)},
		{"unauth", "Measure connections that never authenticate", plain(loadtest.Unauth)},
		{"chat", "Measure one-to-one messages", plain(loadtest.Chat)},
		{"muc", "Measure group chat (XEP-0045)", plain(loadtest.MUC)},
		{"presence", "Measure presence broadcast to contacts", plain(loadtest.Presence)},
		{"resume", "Measure a resume storm (XEP-0198 stream management)", plain(loadtest.Resume)},
	} {
		cmd.AddCommand(&cobra.Command{
			Use: s.name, Short: s.short, Args: noArgs,
			RunE: func(c *cobra.Command, _ []string) error { return runBench(c, f, s.name, s.run) },
		})
	}
	cmd.AddCommand(newBenchReportCmd())
	return cmd
}

func plain(fn func(context.Context, loadtest.Options) (loadtest.Result, error)) func(context.Context, *benchFlags, loadtest.Options, *cobra.Command) (loadtest.Result, error) {
	return func(ctx context.Context, _ *benchFlags, o loadtest.Options, _ *cobra.Command) (loadtest.Result, error) {
		return fn(ctx, o)
	}
}

func (f *benchFlags) register(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.addr, "addr", "127.0.0.1:5222", "the server's client (STARTTLS) listener; loopback only")
	pf.StringVar(&f.websocket, "websocket", "", "connect over XMPP over WebSocket (RFC 7395) at this `URL` (ws://127.0.0.1:5280/xmpp-websocket, or wss://) instead of --addr; loopback only")
	pf.BoolVar(&f.starttls, "starttls", false, "negotiate STARTTLS before authenticating")
	pf.BoolVar(&f.directTLS, "direct-tls", false, "--addr is a direct TLS listener (XEP-0368): TLS before the stream")
	pf.StringVar(&f.caFile, "ca-file", "", "PEM `FILE` of certificates to trust for STARTTLS")
	pf.BoolVar(&f.insecure, "insecure-skip-verify", false, "do not verify the server's certificate")
	pf.StringVar(&f.mech, "mech", loadtest.MechSCRAMSHA256, "SASL mechanism: PLAIN, SCRAM-SHA-1 or SCRAM-SHA-256")
	pf.StringVar(&f.prefix, "prefix", "bench", "account names are PREFIX0, PREFIX1, ...")
	pf.StringVar(&f.password, "password", "bench-password", "the password of every benchmark account")
	pf.IntVarP(&f.n, "n", "n", 100, "number of accounts or clients")
	pf.IntVar(&f.concurrency, "concurrency", 50, "logins or registrations in flight")
	pf.DurationVar(&f.duration, "duration", 10*time.Second, "how long idle/unauth hold and chat/muc send")
	pf.StringVar(&f.mode, "mode", loadtest.UnauthHeader, "unauth: tcp (connect, send nothing), header (stream header, features), tls (STARTTLS or --direct-tls handshake, then silent) or tls-header (TLS, then header and features)")
	pf.Float64Var(&f.rate, "rate", 0, "messages per second in total (0: flat out, --window in flight per sender)")
	pf.IntVar(&f.window, "window", 32, "flat out: messages in flight per sender")
	pf.IntVar(&f.pairs, "pairs", 100, "chat: pairs of users")
	pf.StringVar(&f.to, "to", loadtest.ToBare, "chat: address messages to the peer's bare JID (bare) or its bound resource (full)")
	pf.IntVar(&f.rooms, "rooms", 10, "muc: rooms")
	pf.IntVar(&f.roomSize, "room-size", 10, "muc: occupants per room")
	pf.BoolVar(&f.persistentRooms, "persistent-rooms", false, "muc: configure created rooms as persistent (Parley archives them, XEP-0313)")
	pf.StringVar(&f.mucService, "muc-service", "", "muc: the MUC service's domain (default conference.DOMAIN)")
	pf.IntVar(&f.contacts, "contacts", 10, "presence: mutual contacts per user")
	pf.IntVar(&f.bodySize, "body-size", 64, "message body size in bytes")
	pf.IntVar(&f.pid, "server-pid", 0, "the server's process id, to read its CPU and memory from /proc")
	pf.IntVar(&f.sources, "sources", 8, "connect from this many source addresses, 127.0.0.1 upwards")
	pf.DurationVar(&f.timeout, "timeout", 30*time.Second, "time allowed for one login or registration")
	pf.StringVar(&f.label, "label", "", "name of the server under test, recorded in the results")
	pf.StringVar(&f.jsonOut, "json", "", "append one JSON line per run to `FILE` (- for standard output)")
	pf.StringVar(&f.keyCache, "key-cache", "", "`FILE` caching SCRAM salted passwords between runs")
	pf.BoolVar(&f.noProgress, "no-progress", false, "do not print the progress line on standard error")
	pf.BoolVar(&f.sm, "sm", false, "idle: enable stream management (XEP-0198) with resumption on each session")
	pf.StringVar(&f.via, "via", "ibr", "register: ibr (XEP-0077, any server) or store (Parley's database: --config/--data-dir)")
}

// runBench builds the target and options, runs one scenario and prints
// its result.
func runBench(cmd *cobra.Command, f *benchFlags, name string,
	run func(context.Context, *benchFlags, loadtest.Options, *cobra.Command) (loadtest.Result, error)) error {
	o, err := f.options(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	res, runErr := run(ctx, f, o, cmd)
	res.Label = f.label
	if name != "unauth" { // never authenticates
		res.Params = withParam(res.Params, "mechanism", o.Target.Mechanism)
	}
	if err := f.output(cmd, res); err != nil {
		return err
	}
	if o.Target.Keys != nil && f.keyCache != "" {
		if err := o.Target.Keys.Save(f.keyCache); err != nil {
			return err
		}
	}
	if runErr != nil {
		return fmt.Errorf("bench %s: %w", name, runErr)
	}
	return nil
}

func withParam(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

func (f *benchFlags) output(cmd *cobra.Command, res loadtest.Result) error {
	if err := res.WriteTable(cmd.OutOrStdout()); err != nil {
		return err
	}
	switch f.jsonOut {
	case "":
		return nil
	case "-":
		return res.WriteJSON(cmd.OutOrStdout())
	}
	file, err := os.OpenFile(f.jsonOut, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer file.Close()
	return res.WriteJSON(file)
}

func (f *benchFlags) options(cmd *cobra.Command) (loadtest.Options, error) {
	t, err := f.target(cmd)
	if err != nil {
		return loadtest.Options{}, err
	}
	o := loadtest.Options{
		Target: t, Prefix: f.prefix, Password: f.password, N: f.n, Concurrency: f.concurrency,
		Duration: f.duration, Rate: f.rate, Window: f.window, Pairs: f.pairs, To: f.to,
		Rooms: f.rooms, RoomSize: f.roomSize, MUCService: f.mucService, Contacts: f.contacts, PersistentRooms: f.persistentRooms,
		BodySize: f.bodySize, Server: loadtest.Proc{PID: f.pid}, UnauthMode: f.mode, SM: f.sm,
	}
	if o.MUCService == "" {
		o.MUCService = "conference." + t.Domain
	}
	if !f.noProgress {
		o.Progress = &loadtest.Progress{W: cmd.ErrOrStderr(), Interval: time.Second}
	}
	return o, nil
}

func (f *benchFlags) target(cmd *cobra.Command) (*loadtest.Target, error) {
	if err := checkLoopback(f.addr); err != nil {
		return nil, err
	}
	if err := checkWebSocket(f.websocket); err != nil {
		return nil, err
	}
	domain := "localhost"
	if d, ok := globalFlag(cmd, flagDomain); ok {
		domain = strings.Trim(strings.Split(strings.Trim(d, "[]"), ",")[0], " ")
	}
	tlsCfg, err := f.tlsConfig(domain)
	if err != nil {
		return nil, err
	}
	keys := loadtest.NewKeyCache()
	if f.keyCache != "" {
		if keys, err = loadtest.LoadKeyCache(f.keyCache); err != nil {
			return nil, err
		}
	}
	t := &loadtest.Target{
		Addr: f.addr, Domain: domain, StartTLS: f.starttls, DirectTLS: f.directTLS, TLS: tlsCfg,
		Mechanism: f.mech, Keys: keys, StepTimeout: f.timeout, WebSocket: f.websocket,
	}
	for i := range f.sources {
		t.Sources = append(t.Sources, netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i)}))
	}
	return t, nil
}

// checkWebSocket applies checkLoopback to a --websocket URL.
func checkWebSocket(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "ws" && p.Scheme != "wss") {
		return &usageError{err: fmt.Errorf("--websocket %q: write a ws:// or wss:// URL", u)}
	}
	host := p.Host
	if p.Port() == "" {
		host = net.JoinHostPort(p.Hostname(), "80")
	}
	return checkLoopback(host)
}

// checkLoopback refuses targets that are not on this machine: the tool
// generates load and must never point at a network.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return &usageError{err: fmt.Errorf("--addr %q: %w", addr, err)}
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return &usageError{err: fmt.Errorf("--addr %q: cannot resolve %s", addr, host)}
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return &usageError{err: fmt.Errorf("--addr %q: %s is not a loopback address; bench only loads servers on this machine", addr, ip)}
		}
	}
	return nil
}

func (f *benchFlags) tlsConfig(domain string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: domain, InsecureSkipVerify: f.insecure, MinVersion: tls.VersionTLS12}
	if f.caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(f.caFile)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	cfg.RootCAs = x509.NewCertPool()
	if !cfg.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("bench: no certificate in %s", f.caFile)
	}
	return cfg, nil
}

// runRegister creates the accounts with XEP-0077, or for Parley directly
// in its database (--via store, the same path as `parley user add`).
func runRegister(ctx context.Context, f *benchFlags, o loadtest.Options, cmd *cobra.Command) (loadtest.Result, error) {
	switch f.via {
	case "ibr":
		res, err := loadtest.Register(ctx, o, loadtest.IBR{Target: o.Target})
		res.Params = withParam(res.Params, "via", "ibr")
		return res, err
	case "store":
		var res loadtest.Result
		err := withAccounts(cmd, func(ctx context.Context, cfg config.Config, s *account.Store) error {
			var err error
			res, err = loadtest.Register(ctx, o, storeRegistrar(s, o.Target.Domain))
			res.Params = withParam(res.Params, "via", "store")
			return err
		})
		return res, err
	}
	return loadtest.Result{}, &usageError{cmd: cmd, err: fmt.Errorf("--via must be ibr or store, not %q", f.via)}
}

func storeRegistrar(s *account.Store, domain string) loadtest.Registrar {
	return loadtest.RegistrarFunc(func(ctx context.Context, user, password string) error {
		j, err := jid.New(user, domain, "")
		if err != nil {
			return err
		}
		err = s.Create(ctx, j, password)
		if errors.Is(err, account.ErrExists) {
			return loadtest.ErrExists
		}
		return err
	})
}

func newBenchReportCmd() *cobra.Command {
	var baseline string
	cmd := &cobra.Command{
		Use:   "report FILE...",
		Short: "Write Markdown tables (with ratios to --baseline) from JSON result lines",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rs []loadtest.Result
			for _, a := range args {
				r, err := readResults(a)
				if err != nil {
					return err
				}
				rs = append(rs, r...)
			}
			return loadtest.WriteMarkdown(cmd.OutOrStdout(), rs, baseline)
		},
	}
	cmd.Flags().StringVar(&baseline, "baseline", "parley", "the label the other servers are compared with")
	return cmd
}

func readResults(path string) ([]loadtest.Result, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bench report: %w", err)
	}
	defer file.Close()
	rs, err := loadtest.ReadJSON(file)
	if err != nil {
		return nil, fmt.Errorf("bench report: %s: %w", path, err)
	}
	return rs, nil
}

var _ io.Writer = (*os.File)(nil)
