package config

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/parleyim/parley/internal/jid"
)

// MinScramIterations is the smallest accepted auth.scram_iterations
// (RFC 5802 §5.1 and RFC 7677 ask for at least 4096).
const MinScramIterations = 4096

// Validate checks the values and returns every problem found, joined with
// errors.Join (use Problems to list them), or nil. Each problem names the
// key, the file line when the value came from Load, and the fix.
//
// Rules: domains are non-empty, valid and written in canonical form (lower
// case, Unicode labels), without duplicates; data_dir is set; listener
// addresses are "" (disabled, where allowed) or host:port with a numeric
// port, and no two listeners share a port; durations and limits are
// positive; storage.driver is sqlite, postgres or mysql, and postgres and
// mysql need storage.dsn; log.level and log.format are known; tls.cert_file
// and tls.key_file come together; tls.certs only names served domains;
// auth.scram_iterations is at least MinScramIterations; auth.scram_hashes
// lists one to three known hashes, none twice;
// auth.channel_binding_downgrade is "compatible" or "strict";
// offline.max_messages_per_user and the roster limits are positive.
//
// c2s.insecure_plaintext = true overrides c2s.require_tls (see
// C2S.TLSRequired); writing both as true in the same file is reported as a
// contradiction.
func (c *Config) Validate() error {
	v := validator{c: c}
	v.domains()
	if strings.TrimSpace(c.DataDir) == "" {
		v.add("data_dir", `must not be empty; set it to a directory for the database and certificates, e.g. "/var/lib/parley"`)
	}
	v.log()
	v.listeners()
	v.http()
	v.c2s()
	v.tls()
	v.limits()
	v.storage()
	if c.Auth.ScramIterations < MinScramIterations {
		v.add("auth.scram_iterations", fmt.Sprintf("is %d; must be at least %d (RFC 5802); the default is %d",
			c.Auth.ScramIterations, MinScramIterations, Default().Auth.ScramIterations))
	}
	if c.Offline.MaxMessagesPerUser <= 0 {
		v.add("offline.max_messages_per_user", fmt.Sprintf("is %d; must be greater than 0 (the default is %d); set offline.enabled = false to store no messages",
			c.Offline.MaxMessagesPerUser, Default().Offline.MaxMessagesPerUser))
	}
	v.roster()
	v.muc()
	v.admin()
	v.mam()
	v.groupchat()
	v.pubsub()
	v.s2s()
	v.sm()
	v.clients()
	v.sasl2()
	v.upload()
	v.pushApp()
	v.scramHashes()
	if d := c.Auth.ChannelBindingDowngrade; d != ChannelBindingCompatible && d != ChannelBindingStrict {
		v.add("auth.channel_binding_downgrade", fmt.Sprintf(`is %q; must be %q (the default: refuse the SCRAM "y" flag only where tls-unique is offered) or %q (refuse it wherever channel binding is offered, RFC 5802)`,
			d, ChannelBindingCompatible, ChannelBindingStrict))
	}
	return joinProblems(v.problems)
}

// scramHashes checks auth.scram_hashes: at least one, each known, none
// twice.
func (v *validator) scramHashes() {
	hs := v.c.Auth.ScramHashes
	if len(hs) == 0 {
		v.add("auth.scram_hashes", `is empty; list at least one of "SHA-1", "SHA-256", "SHA-512" (the default is all three)`)
	}
	seen := map[string]bool{}
	for _, h := range hs {
		switch {
		case h != "SHA-1" && h != "SHA-256" && h != "SHA-512":
			v.add("auth.scram_hashes", fmt.Sprintf(`has %q; the known hashes are "SHA-1", "SHA-256" and "SHA-512" (spelled so)`, h))
		case seen[h]:
			v.add("auth.scram_hashes", fmt.Sprintf("lists %q twice", h))
		}
		seen[h] = true
	}
}

func (v *validator) muc() {
	m, d := v.c.MUC, Default().MUC
	if !m.Enabled {
		return
	}
	if j, err := jid.New("", m.Subdomain, ""); m.Subdomain == "" || err != nil || j.Domain() != m.Subdomain {
		v.add("muc.subdomain", fmt.Sprintf("is %q; must be DNS labels in canonical (lower-case) form, such as %q", m.Subdomain, d.Subdomain))
	}
	for _, dom := range v.c.Domains {
		if slices.Contains(v.c.Domains, m.Subdomain+"."+dom) {
			v.add("muc.subdomain", fmt.Sprintf("names %q, which is also a user domain in domains; choose another subdomain", m.Subdomain+"."+dom))
		}
	}
	if m.HistorySize < 0 {
		v.add("muc.history_size", fmt.Sprintf("is %d; must be 0 or more (the default is %d)", m.HistorySize, d.HistorySize))
	}
	if m.MaxOccupants <= 0 {
		v.add("muc.max_occupants", fmt.Sprintf("is %d; must be greater than 0 (the default is %d)", m.MaxOccupants, d.MaxOccupants))
	}
	switch m.Create {
	case "everyone", "local", "admins":
	default:
		v.add("muc.create", fmt.Sprintf("is %q; must be everyone, local or admins", m.Create))
	}
	for i, a := range m.Admins {
		if j, err := jid.Parse(a); err != nil || !j.IsBare() || j.Local() == "" {
			v.add("muc.admins", fmt.Sprintf("entry %d (%q) is not a bare JID such as \"admin@example.org\"", i+1, a))
		}
	}
}

func (v *validator) roster() {
	r, d := v.c.Roster, Default().Roster
	for _, i := range []struct {
		key      string
		val, def int
	}{
		{"roster.max_items", r.MaxItems, d.MaxItems},
		{"roster.max_name_bytes", r.MaxNameBytes, d.MaxNameBytes},
		{"roster.max_groups_per_item", r.MaxGroupsPerItem, d.MaxGroupsPerItem},
		{"roster.max_group_name_bytes", r.MaxGroupNameBytes, d.MaxGroupNameBytes},
	} {
		if i.val <= 0 {
			v.add(i.key, fmt.Sprintf("is %d; must be greater than 0 (the default is %d)", i.val, i.def))
		}
	}
}

type validator struct {
	c        *Config
	problems []*Problem
}

func (v *validator) add(key, msg string) {
	v.problems = append(v.problems, v.c.problem(splitKeyLoose(key), msg))
}

func (v *validator) addKey(key toml.Key, msg string) {
	v.problems = append(v.problems, v.c.problem(key, msg))
}

// problem builds a Problem for key, with the file and line when the key
// (or its table) came from the loaded file and was not overridden since.
func (c *Config) problem(key toml.Key, msg string) *Problem {
	p := &Problem{Key: key.String(), Msg: msg}
	if c.src == nil || c.src.overridden[key.String()] {
		return p
	}
	if line := lineOf(c.src.lines, key); line > 0 {
		p.File, p.Line = c.src.file, line
	}
	return p
}

func (v *validator) domains() {
	c := v.c
	if len(c.Domains) == 0 {
		v.add("domains", `must list at least one domain, e.g. domains = ["example.org"]`)
		return
	}
	seen := make(map[string]bool)
	for i, d := range c.Domains {
		j, err := jid.New("", d, "")
		if err != nil || !j.IsDomain() {
			v.add("domains", fmt.Sprintf("entry %d (%q) is not a valid domain name: %v; use a DNS name such as \"example.org\"", i+1, d, err))
			continue
		}
		if j.Domain() != d {
			v.add("domains", fmt.Sprintf("entry %d (%q) is not in canonical form; write it as %q", i+1, d, j.Domain()))
		}
		if seen[j.Domain()] {
			v.add("domains", fmt.Sprintf("entry %d (%q) is listed twice; remove the duplicate", i+1, d))
		}
		seen[j.Domain()] = true
	}
}

func (v *validator) log() {
	switch v.c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", fmt.Sprintf("is %q; must be one of debug, info, warn, error", v.c.Log.Level))
	}
	switch v.c.Log.Format {
	case "text", "json":
	default:
		v.add("log.format", fmt.Sprintf("is %q; must be text or json", v.c.Log.Format))
	}
}

type listener struct {
	key, addr  string
	host, port string
}

func (v *validator) listeners() {
	addrs := []struct {
		key, addr, example string
	}{
		{"c2s.addr", v.c.C2S.Addr, ":5222"},
		{"c2s.tls_addr", v.c.C2S.TLSAddr, ":5223"},
		{"admin.addr", v.c.Admin.Addr, "127.0.0.1:9090"},
		{"http.addr", v.c.HTTP.Addr, ":5280"},
		{"http.tls_addr", v.c.HTTP.TLSAddr, ":5281"},
		{"s2s.addr", v.c.S2S.Addr, ":5269"}, {"s2s.tls_addr", v.c.S2S.TLSAddr, ":5270"},
		{"components.addr", v.c.Components.Addr, "127.0.0.1:5347"},
	}
	var ok []listener
	for _, a := range addrs {
		if a.addr == "" {
			continue // disabled
		}
		host, port, err := net.SplitHostPort(a.addr)
		if err != nil {
			v.add(a.key, fmt.Sprintf("%q is not host:port; write e.g. %q (host may be empty for all interfaces), or \"\" to disable", a.addr, a.example))
			continue
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			v.add(a.key, fmt.Sprintf("%q has port %q; the port must be a number from 0 to 65535 (0 picks a free port)", a.addr, port))
			continue
		}
		if strings.ContainsAny(host, " /@") {
			v.add(a.key, fmt.Sprintf("%q has an invalid host %q; use an IP address, a host name or nothing", a.addr, host))
			continue
		}
		if n == 0 {
			continue // ephemeral ports never clash
		}
		l := listener{key: a.key, addr: a.addr, host: host, port: port}
		for _, o := range ok {
			if o.port == l.port && hostsOverlap(o.host, l.host) {
				v.add(l.key, fmt.Sprintf("%q uses the same port as %s (%q); pick another port", l.addr, o.key, o.addr))
			}
		}
		ok = append(ok, l)
	}
}

func hostsOverlap(a, b string) bool {
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return a == b || wild(a) || wild(b)
}

func (v *validator) c2s() {
	c := v.c.C2S
	v.positiveDuration("c2s.ping_interval", c.PingInterval, Default().C2S.PingInterval)
	v.positiveDuration("c2s.ping_timeout", c.PingTimeout, Default().C2S.PingTimeout)
	v.positiveDuration("c2s.write_timeout", c.WriteTimeout, Default().C2S.WriteTimeout)
	if c.ParkAfter < 0 {
		v.add("c2s.park_after", "is negative; use 0 to never park idle connections (the default is 2s)")
	}
	if c.InsecurePlaintext && c.RequireTLS && v.c.src != nil &&
		v.c.src.defined["c2s.require_tls"] && v.c.src.defined["c2s.insecure_plaintext"] &&
		!v.c.src.overridden["c2s.require_tls"] && !v.c.src.overridden["c2s.insecure_plaintext"] {
		v.add("c2s.insecure_plaintext", "is true while c2s.require_tls is also set to true; insecure_plaintext disables the TLS requirement, so set require_tls = false or remove insecure_plaintext")
	}
}

func (v *validator) tls() {
	t := v.c.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		if t.CertFile == "" {
			v.add("tls.cert_file", "is empty but tls.key_file is set; set both (certificate chain and private key, PEM) or neither")
		} else {
			v.add("tls.key_file", "is empty but tls.cert_file is set; set both (certificate chain and private key, PEM) or neither")
		}
	}
	served := make(map[string]bool)
	for _, d := range v.c.Domains {
		served[d] = true
	}
	for _, d := range slices.Sorted(maps.Keys(t.Certs)) {
		pair := t.Certs[d]
		key := toml.Key{"tls", "certs", d}
		if !served[d] {
			v.addKey(key, fmt.Sprintf("domain %q is not in domains (%s); add it there or remove this entry", d, strings.Join(v.c.Domains, ", ")))
		}
		if pair.Cert == "" {
			v.addKey(append(slices.Clone(key), "cert"), "is empty; set the path of the PEM certificate chain")
		}
		if pair.Key == "" {
			v.addKey(append(slices.Clone(key), "key"), "is empty; set the path of the PEM private key")
		}
	}
}

func (v *validator) limits() {
	l, d := v.c.Limits, Default().Limits
	ints := []struct {
		key      string
		val, def int
	}{
		{"limits.max_stanza_bytes", l.MaxStanzaBytes, d.MaxStanzaBytes},
		{"limits.max_stanza_memory", l.MaxStanzaMemory, d.MaxStanzaMemory},
		{"limits.max_depth", l.MaxDepth, d.MaxDepth},
		{"limits.max_attrs", l.MaxAttrs, d.MaxAttrs},
		{"limits.preauth_stanza_bytes", l.PreAuthStanzaBytes, d.PreAuthStanzaBytes},
		{"limits.preauth_elements", l.PreAuthElements, d.PreAuthElements},
		{"limits.burst_bytes", l.BurstBytes, d.BurstBytes},
		{"limits.connections_per_ip", l.ConnectionsPerIP, d.ConnectionsPerIP},
		{"limits.auth_failures_per_ip", l.AuthFailuresPerIP, d.AuthFailuresPerIP},
		{"limits.max_outbound_bytes", l.MaxOutboundBytes, d.MaxOutboundBytes},
		{"limits.max_sessions_per_user", l.MaxSessionsPerUser, d.MaxSessionsPerUser},
		{"limits.registrations_per_ip_per_hour", l.RegistrationsPerIPPerHour, d.RegistrationsPerIPPerHour},
	}
	for _, i := range ints {
		if i.val <= 0 {
			v.add(i.key, fmt.Sprintf("is %d; must be greater than 0 (the default is %d)", i.val, i.def))
		}
	}
	v.positiveDuration("limits.preauth_timeout", l.PreAuthTimeout, d.PreAuthTimeout)
	v.positiveDuration("limits.auth_failure_window", l.AuthFailureWindow, d.AuthFailureWindow)
	v.positiveDuration("limits.auth_ban_duration", l.AuthBanDuration, d.AuthBanDuration)
	v.positiveDuration("limits.auth_failure_delay", l.AuthFailureDelay, d.AuthFailureDelay)
	if l.MemoryTrimInterval < 0 {
		v.add("limits.memory_trim_interval", "is negative; use 0 to leave returning memory to the Go runtime (the default is 10s)")
	}
	if l.BytesPerSecond < 0 {
		v.add("limits.bytes_per_second", fmt.Sprintf("is %d; must be 0 (no limit) or more (the default is %d)", l.BytesPerSecond, d.BytesPerSecond))
	}
	if l.MaxStanzaMemory > 0 && l.MaxStanzaBytes > 0 && l.MaxStanzaMemory < 2*l.MaxStanzaBytes {
		v.add("limits.max_stanza_memory", fmt.Sprintf("(%d) is less than twice limits.max_stanza_bytes (%d); a stanza of that many bytes of plain text would be refused, set it to at least %d", l.MaxStanzaMemory, l.MaxStanzaBytes, 2*l.MaxStanzaBytes))
	}
	for i, p := range l.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			v.add("limits.trusted_proxies", fmt.Sprintf("entry %d (%q) is not a network or address: %v; write it in CIDR notation (\"10.0.0.0/8\", \"fd00::/8\") or as one address (\"192.0.2.1\")", i+1, p, err))
		}
	}
	if l.PreAuthStanzaBytes > 0 && l.MaxStanzaBytes > 0 && l.PreAuthStanzaBytes > l.MaxStanzaBytes {
		v.add("limits.preauth_stanza_bytes", fmt.Sprintf("(%d) is larger than limits.max_stanza_bytes (%d); the limit before authentication must not exceed the one after", l.PreAuthStanzaBytes, l.MaxStanzaBytes))
	}
}

func (v *validator) positiveDuration(key string, val, def Duration) {
	if val <= 0 {
		v.add(key, fmt.Sprintf("is %s; must be a positive duration such as %q (the default)", time.Duration(val), time.Duration(def).String()))
	}
}

func (v *validator) storage() {
	s := v.c.Storage
	switch s.Driver {
	case "sqlite":
	case "postgres", "mysql":
		if s.DSN == "" {
			v.add("storage.dsn", fmt.Sprintf("is empty; the %s driver needs a connection string (DSN)", s.Driver))
		}
	default:
		v.add("storage.driver", fmt.Sprintf("is %q; must be sqlite, postgres or mysql", s.Driver))
	}
	if s.Driver == "sqlite" && strings.ContainsAny(s.DSN, "?#") {
		v.add("storage.dsn", fmt.Sprintf("is %q; for sqlite it is the path of the database file and must not contain '?' or '#'", s.DSN))
	}
	if s.MaxOpenConns <= 0 {
		v.add("storage.max_open_conns", fmt.Sprintf("is %d; must be greater than 0 (the default is %d)", s.MaxOpenConns, Default().Storage.MaxOpenConns))
	}
	if s.MaxIdleConns < 0 || (s.MaxOpenConns > 0 && s.MaxIdleConns > s.MaxOpenConns) {
		v.add("storage.max_idle_conns", fmt.Sprintf("is %d; must be between 0 and storage.max_open_conns (%d)", s.MaxIdleConns, s.MaxOpenConns))
	}
	if s.ConnMaxLifetime < 0 {
		v.add("storage.conn_max_lifetime", fmt.Sprintf("is %s; must not be negative (0 keeps connections open)", s.ConnMaxLifetime.D()))
	}
	if s.RetryTimeout <= 0 {
		v.add("storage.retry_timeout", fmt.Sprintf("is %s; must be greater than 0 (the default is %s)", s.RetryTimeout.D(), Default().Storage.RetryTimeout.D()))
	}
	if s.AccountCacheSize < 0 {
		v.add("storage.account_cache_size", fmt.Sprintf("is %d; must be 0 (no cache) or more (the default is %d)", s.AccountCacheSize, Default().Storage.AccountCacheSize))
	}
	for _, d := range []struct {
		key string
		val Duration
	}{{"storage.account_cache_ttl", s.AccountCacheTTL}, {"storage.account_negative_ttl", s.AccountNegativeTTL}} {
		if d.val < 0 {
			v.add(d.key, fmt.Sprintf("is %s; must not be negative (\"0s\" keeps no such answers)", d.val.D()))
		}
	}
}

// TLSRequired reports whether clients must negotiate TLS before
// authenticating: RequireTLS, unless InsecurePlaintext overrides it.
func (c C2S) TLSRequired() bool { return c.RequireTLS && !c.InsecurePlaintext }

// DefaultDomain returns the first served domain, used when a command is
// given a bare username; "" when Domains is empty.
func (c Config) DefaultDomain() string {
	if len(c.Domains) == 0 {
		return ""
	}
	return c.Domains[0]
}

// Serves reports whether domain (in any case or form jid accepts) is one
// of the configured domains.
func (c Config) Serves(domain string) bool {
	j, err := jid.New("", domain, "")
	if err != nil {
		return false
	}
	for _, d := range c.Domains {
		if dj, err := jid.New("", d, ""); err == nil && dj.Domain() == j.Domain() {
			return true
		}
	}
	return false
}

// Source returns the file the configuration was loaded from, or "" when it
// was not loaded from a file.
func (c Config) Source() string {
	if c.src == nil {
		return ""
	}
	return c.src.file
}

// MarkOverridden records that the dotted keys (e.g. "data_dir",
// "domains") were set after Load, for example from command-line flags, so
// that Validate does not blame the file's line for their values.
func (c *Config) MarkOverridden(keys ...string) {
	if c.src == nil {
		c.src = &source{} // built in code: remember the flags all the same
	}
	src := *c.src // copy: other copies of the Config share the original
	src.overridden = maps.Clone(src.overridden)
	if src.overridden == nil {
		src.overridden = make(map[string]bool)
	}
	for _, k := range keys {
		src.overridden[splitKeyLoose(k).String()] = true
	}
	c.src = &src
}

// ParsePrefix parses an entry of limits.trusted_proxies: a network in CIDR
// notation or a single address (a network of one).
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
