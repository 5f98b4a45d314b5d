package config

import (
	"fmt"
	"time"
)

// Config is the whole TOML schema. Every field has a default (see Default);
// a file only needs the keys it changes.
type Config struct {
	// Domains are the virtual hosts this server serves. The first is the
	// default one (used by CLI commands when a JID has no domain).
	Domains []string `toml:"domains"`
	// DataDir holds the SQLite database and the generated certificates.
	DataDir string  `toml:"data_dir"`
	Log     Log     `toml:"log"`
	C2S     C2S     `toml:"c2s"`
	TLS     TLS     `toml:"tls"`
	Limits  Limits  `toml:"limits"`
	Storage Storage `toml:"storage"`
	Admin   Admin   `toml:"admin"`
	HTTP    HTTP    `toml:"http"`
	// AllowRegistration enables XEP-0077 in-band registration.
	AllowRegistration bool    `toml:"allow_registration"`
	Auth              Auth    `toml:"auth"`
	Offline           Offline `toml:"offline"`
	Roster            Roster  `toml:"roster"`
	MUC               MUC     `toml:"muc"`
	MAM               MAM     `toml:"mam"`
	// Admins are the server administrators (groupchat.go validates them).
	Admins []string `toml:"admins"`
	AdHoc  AdHoc    `toml:"adhoc"`
	PubSub PubSub   `toml:"pubsub"`
	// S2S is federation (s2s.go); Components are XEP-0114 components.
	S2S        S2S        `toml:"s2s"`
	Components Components `toml:"components"`
	SM         SM         `toml:"sm"`
	SASL2      SASL2      `toml:"sasl2"`
	Clients    Clients    `toml:"clients"`
	Upload     Upload     `toml:"upload"`
	Push       Push       `toml:"push"` // pushapp.go

	// src records where the values came from (set by Load); nil for a
	// Config built in code. It only serves to put line numbers on problems.
	src *source
}

// Log configures log/slog output.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// C2S configures client listeners.
type C2S struct {
	Addr    string `toml:"addr"`     // STARTTLS listener, e.g. ":5222"; "" disables
	TLSAddr string `toml:"tls_addr"` // direct TLS listener (XEP-0368), e.g. ":5223"; "" disables
	// RequireTLS makes STARTTLS mandatory before authentication.
	RequireTLS bool `toml:"require_tls"`
	// InsecurePlaintext lets clients skip TLS and use PLAIN without it.
	// It overrides RequireTLS: when true, TLS is offered but never
	// required (see TLSRequired).
	InsecurePlaintext bool `toml:"insecure_plaintext"`
	// PingInterval is how long a client may be silent before the server
	// pings it (XEP-0199); PingTimeout how long it waits for the answer.
	PingInterval Duration `toml:"ping_interval"`
	PingTimeout  Duration `toml:"ping_timeout"`
	// ParkAfter is how long a silent connection keeps its reading
	// goroutine; after it the connection waits in the shared poller and
	// holds no goroutine stack or read buffer. 0 never parks.
	ParkAfter Duration `toml:"park_after"`
	// WriteTimeout bounds one write to a client: a client that has not
	// taken any of the bytes for this long is dead or hostile, and its
	// connection is dropped.
	WriteTimeout Duration `toml:"write_timeout"`
}

// TLS configures certificates. When CertFile/KeyFile are empty, a
// self-signed certificate per domain is generated in DataDir/certs.
type TLS struct {
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// Certs maps a domain to its own certificate (cert, key paths).
	Certs map[string]CertPair `toml:"certs"`
}

// CertPair is a certificate and key file.
type CertPair struct {
	Cert string `toml:"cert"`
	Key  string `toml:"key"`
}

// Limits bounds what a connection may cost.
type Limits struct {
	MaxStanzaBytes int `toml:"max_stanza_bytes"`
	// MaxStanzaMemory bounds the memory the parsed tree of one stanza may
	// take (its bytes plus about 100 bytes per element, 48 per attribute):
	// many small elements cost far more than their bytes.
	MaxStanzaMemory    int      `toml:"max_stanza_memory"`
	MaxDepth           int      `toml:"max_depth"`
	MaxAttrs           int      `toml:"max_attrs"`
	PreAuthStanzaBytes int      `toml:"preauth_stanza_bytes"`
	PreAuthElements    int      `toml:"preauth_elements"`
	PreAuthTimeout     Duration `toml:"preauth_timeout"`
	BytesPerSecond     int      `toml:"bytes_per_second"`
	BurstBytes         int      `toml:"burst_bytes"`
	ConnectionsPerIP   int      `toml:"connections_per_ip"`
	AuthFailuresPerIP  int      `toml:"auth_failures_per_ip"`
	AuthFailureWindow  Duration `toml:"auth_failure_window"`
	AuthBanDuration    Duration `toml:"auth_ban_duration"`
	AuthFailureDelay   Duration `toml:"auth_failure_delay"`
	// ExemptLoopback exempts loopback addresses from the per-IP limits
	// (connections, authentication failures, registrations); the
	// per-connection byte rate still applies.
	ExemptLoopback bool `toml:"exempt_loopback"`
	// TrustedProxies are networks (CIDR, or single addresses) whose
	// connections carry many users, such as a TLS terminator or proxy in
	// front of Parley: like loopback with ExemptLoopback, they are exempt
	// from the per-IP limits but not from the per-connection byte rate.
	TrustedProxies     []string `toml:"trusted_proxies"`
	MaxOutboundBytes   int      `toml:"max_outbound_bytes"`
	MaxSessionsPerUser int      `toml:"max_sessions_per_user"`
	// RegistrationsPerIPPerHour bounds the accounts one address may create
	// by in-band registration (XEP-0077) in an hour; loopback addresses
	// are exempt when ExemptLoopback is set.
	RegistrationsPerIPPerHour int `toml:"registrations_per_ip_per_hour"`
	// MemoryTrimInterval is how often the server checks whether it is
	// quiet and holds much free heap, to give it back to the system (after
	// a login storm); 0 leaves that to the Go runtime.
	MemoryTrimInterval Duration `toml:"memory_trim_interval"`
}

// Storage selects the database engine.
type Storage struct {
	Driver       string `toml:"driver"` // sqlite (default), postgres, mysql
	DSN          string `toml:"dsn"`    // driver DSN; for sqlite default is DataDir/parley.db
	MaxOpenConns int    `toml:"max_open_conns"`
	// MaxIdleConns is how many of the open connections are kept when idle.
	MaxIdleConns int `toml:"max_idle_conns"`
	// ConnMaxLifetime closes connections older than this (0: never).
	ConnMaxLifetime Duration `toml:"conn_max_lifetime"`
	// RetryTimeout is how long a write keeps retrying while the database
	// cannot be reached (restarting) before it fails.
	RetryTimeout Duration `toml:"retry_timeout"`
	// AccountCacheSize is how many answers to "does this account exist?"
	// are kept in memory (0: none, every such question reads the
	// database). The router asks it for a message or iq to a user with no
	// session.
	AccountCacheSize int `toml:"account_cache_size"`
	// AccountCacheTTL is how long a "yes" is kept: an account deleted by
	// another process (`parley user delete` while the server runs) is seen
	// as gone after at most this long. The server's own deletions are seen
	// at once.
	AccountCacheTTL Duration `toml:"account_cache_ttl"`
	// AccountNegativeTTL is how long a "no" is kept: an account created by
	// another process (`parley user add`, `parley import`) is seen after
	// at most this long. The server's own registrations are seen at once.
	AccountNegativeTTL Duration `toml:"account_negative_ttl"`
}

// Auth configures password storage.
type Auth struct {
	// ScramIterations is the PBKDF2 iteration count for new passwords.
	ScramIterations int `toml:"scram_iterations"`
	// ScramHashes are the hashes ("SHA-1", "SHA-256", "SHA-512") whose
	// SCRAM keys are derived and stored for new and changed passwords (one
	// PBKDF2 run each), and whose SCRAM mechanisms are offered.
	ScramHashes []string `toml:"scram_hashes"`
	// ChannelBindingDowngrade is what a SCRAM client-first message with the
	// gs2 flag "y" (the client can bind but believes we cannot) gets:
	// ChannelBindingCompatible refuses it only where tls-unique is offered;
	// ChannelBindingStrict wherever any channel binding type is offered
	// (RFC 5802 §6). docs/security.md explains the choice.
	ChannelBindingDowngrade string `toml:"channel_binding_downgrade"`
}

// Values of auth.channel_binding_downgrade.
const (
	ChannelBindingCompatible = "compatible"
	ChannelBindingStrict     = "strict"
)

// Offline configures storage of messages for users who are offline
// (XEP-0160).
type Offline struct {
	// Enabled stores messages for offline users; when false they are
	// bounced with service-unavailable (RFC 6121 §8.5.2.1.1).
	Enabled bool `toml:"enabled"`
	// MaxMessagesPerUser is the per-user quota; past it, senders get
	// service-unavailable.
	MaxMessagesPerUser int `toml:"max_messages_per_user"`
}

// Roster bounds each account's roster (RFC 6121 §2.1.2, §2.3.3).
type Roster struct {
	// MaxItems is the most items one roster may hold (pending inbound
	// subscription requests are bounded by it too); past it, adding an
	// item fails with resource-constraint.
	MaxItems int `toml:"max_items"`
	// MaxNameBytes bounds an item's 'name' (not-acceptable past it).
	MaxNameBytes int `toml:"max_name_bytes"`
	// MaxGroupsPerItem bounds the groups of one item (resource-constraint).
	MaxGroupsPerItem int `toml:"max_groups_per_item"`
	// MaxGroupNameBytes bounds one group name (not-acceptable past it).
	MaxGroupNameBytes int `toml:"max_group_name_bytes"`
}

// MUC configures the group chat service (XEP-0045 Multi-User Chat).
type MUC struct {
	// Enabled serves group chat on Subdomain.<each served domain>.
	Enabled bool `toml:"enabled"`
	// Subdomain is the label put before each served domain to name the
	// service, e.g. "conference" for conference.example.org.
	Subdomain string `toml:"subdomain"`
	// HistorySize is how many groupchat messages each room keeps in memory
	// for new occupants (XEP-0045 §7.2.15); 0 keeps none.
	HistorySize int `toml:"history_size"`
	// MaxOccupants is the default and the highest muc#roomconfig_maxusers.
	MaxOccupants int `toml:"max_occupants"`
	// Create says who may create rooms: "everyone", "local" (accounts of
	// the served domains) or "admins" (only the JIDs in Admins).
	Create string `toml:"create"`
	// Admins are bare JIDs that may always create rooms.
	Admins []string `toml:"admins"`
	// MaxRoomsPerUser bounds the rooms one user may have created and not
	// destroyed (resource-constraint past it); 0 is no limit. Admins are
	// exempt.
	MaxRoomsPerUser int `toml:"max_rooms_per_user"`
	// MessageRate is how many groupchat messages a second one occupant
	// may send on average, MessageBurst how many at once; past it a
	// message is refused with resource-constraint. 0 is no limit.
	MessageRate  float64 `toml:"message_rate"`
	MessageBurst int     `toml:"message_burst"`
	// HistoryBytes bounds one room's in-memory history cache,
	// HistoryTotalBytes all rooms' caches together (serialised bytes).
	// Past the total, the caches of rooms nobody is in go first.
	HistoryBytes      int   `toml:"history_bytes"`
	HistoryTotalBytes int64 `toml:"history_total_bytes"`
	// Archive keeps the groupchat messages of persistent rooms in the
	// message archive (XEP-0313 on the room JID); history comes from it.
	Archive bool `toml:"archive"`
}

// Default returns the zero-configuration settings.
func Default() Config {
	return Config{
		Domains: []string{"localhost"},
		DataDir: "parley-data",
		Log:     Log{Level: "info", Format: "text"},
		C2S: C2S{
			Addr:         ":5222",
			TLSAddr:      ":5223",
			RequireTLS:   true,
			PingInterval: Duration(5 * time.Minute),
			PingTimeout:  Duration(60 * time.Second),
			ParkAfter:    Duration(2 * time.Second),
			WriteTimeout: Duration(30 * time.Second),
		},
		Limits: Limits{
			MaxStanzaBytes:     256 << 10,
			MaxStanzaMemory:    2 << 20,
			MaxDepth:           64,
			MaxAttrs:           64,
			PreAuthStanzaBytes: 8 << 10,
			PreAuthElements:    32,
			PreAuthTimeout:     Duration(60 * time.Second),
			BytesPerSecond:     64 << 10,
			BurstBytes:         1 << 20,
			ConnectionsPerIP:   32,
			AuthFailuresPerIP:  10,
			AuthFailureWindow:  Duration(5 * time.Minute),
			AuthBanDuration:    Duration(15 * time.Minute),
			AuthFailureDelay:   Duration(time.Second),
			ExemptLoopback:     true,
			TrustedProxies:     []string{},
			MemoryTrimInterval: Duration(10 * time.Second),
			MaxOutboundBytes:   4 << 20,
			MaxSessionsPerUser: 100,

			RegistrationsPerIPPerHour: 5,
		},
		Storage: Storage{Driver: "sqlite", MaxOpenConns: 8, MaxIdleConns: 8,
			ConnMaxLifetime: Duration(30 * time.Minute), RetryTimeout: Duration(10 * time.Second),
			AccountCacheSize: 65536, AccountCacheTTL: Duration(time.Minute), AccountNegativeTTL: Duration(5 * time.Second)},
		Admin: defaultAdmin(),
		HTTP:  DefaultHTTP(),
		Auth: Auth{ScramIterations: 4096, ScramHashes: []string{"SHA-1", "SHA-256", "SHA-512"},
			ChannelBindingDowngrade: ChannelBindingCompatible},
		Offline: Offline{Enabled: true, MaxMessagesPerUser: 1000},
		Roster:  Roster{MaxItems: 1000, MaxNameBytes: 1024, MaxGroupsPerItem: 64, MaxGroupNameBytes: 1024},
		MUC: MUC{Enabled: true, Subdomain: "conference", HistorySize: 20, MaxOccupants: 200,
			Create: "everyone", Admins: []string{},
			MaxRoomsPerUser: 50, MessageRate: 0, MessageBurst: 20, HistoryBytes: 64 << 10, HistoryTotalBytes: 64 << 20, Archive: true},
		MAM:    defaultMAM(),
		Admins: []string{}, AdHoc: defaultAdHoc(),
		PubSub:     defaultPubSub(),
		S2S:        defaultS2S(),
		Components: Components{Secrets: map[string]string{}},
		SM:         defaultSM(),
		SASL2:      defaultSASL2(),
		Clients:    defaultClients(),
		Upload:     defaultUpload(),
		Push:       DefaultPush(),
	}
}

// Duration is a time.Duration that reads "30s" style strings from TOML.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration; write a number with a unit, e.g. \"30s\", \"5m\" or \"1h\"", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
