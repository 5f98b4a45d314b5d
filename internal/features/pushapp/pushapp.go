package pushapp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/features/adhoc"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/storage"
)

// Namespaces the app server speaks.
const (
	NSPush    = "urn:xmpp:push:0"
	NSSummary = "urn:xmpp:push:summary"
	nsPubSub  = "http://jabber.org/protocol/pubsub"
	nsData    = "jabber:x:data"
	nsInfo    = "http://jabber.org/protocol/disco#info"
	nsOptions = "http://jabber.org/protocol/pubsub#publish-options"
)

// Config is what the module needs.
type Config struct {
	App      config.PushAppServer
	Domains  []string // served domains; the app server is App.Subdomain.<each>
	DB       *storage.DB
	Host     module.Host
	Commands adhoc.Commands // where the registration commands are added
	Log      *slog.Logger
	// Now is the clock (nil: time.Now), for tests of token lifetimes.
	Now func() time.Time
}

// Module is the app server.
type Module struct {
	cfg       Config
	devices   *storage.PushDevices
	providers map[string]provider // by storage.PushDevice.Provider
	domains   map[string]bool     // the app server's domains

	jobs   chan job
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New reads the APNs key and the FCM service account named in the
// configuration and returns the module; its workers start at once and
// stop with Close.
func New(cfg Config) (*Module, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client, err := httpClient(cfg.App)
	if err != nil {
		return nil, err
	}
	m := &Module{cfg: cfg, devices: cfg.DB.PushDevices(), providers: map[string]provider{}, domains: map[string]bool{},
		jobs: make(chan job, cfg.App.QueueSize)}
	if err := m.addProviders(client); err != nil {
		return nil, err
	}
	for _, d := range cfg.Domains {
		m.domains[cfg.App.Subdomain+"."+d] = true
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	for range cfg.App.Workers {
		m.wg.Add(1)
		go m.work()
	}
	return m, nil
}

// addProviders sets up APNs and FCM as configured.
func (m *Module) addProviders(client *http.Client) error {
	a := m.cfg.App
	if a.APNs.KeyFile != "" {
		data, err := os.ReadFile(a.APNs.KeyFile)
		if err != nil {
			return fmt.Errorf("pushapp: %w", err)
		}
		key, err := ParseAPNsKey(data)
		if err != nil {
			return fmt.Errorf("pushapp: %s: %w", a.APNs.KeyFile, err)
		}
		m.providers["apns"] = &apns{cfg: a.APNs, key: key, client: client, now: m.cfg.Now}
	}
	if a.FCM.CredentialsFile != "" {
		data, err := os.ReadFile(a.FCM.CredentialsFile)
		if err != nil {
			return fmt.Errorf("pushapp: %w", err)
		}
		sa, key, err := ParseServiceAccount(data)
		if err != nil {
			return fmt.Errorf("pushapp: %s: %w", a.FCM.CredentialsFile, err)
		}
		uri := sa.TokenURI
		if a.FCM.TokenURI != "" {
			uri = a.FCM.TokenURI
		}
		if uri == "" {
			return fmt.Errorf("pushapp: %s has no token_uri; set push.appserver.fcm.token_uri", a.FCM.CredentialsFile)
		}
		m.providers["fcm"] = &fcm{sa: sa, key: key, url: a.FCM.URL, tokenURI: uri, client: client, now: m.cfg.Now}
	}
	return nil
}

// httpClient is the client for APNs, FCM and the token endpoint: HTTP/2
// over TLS (APNs accepts nothing else), verified against CAFile when set.
func httpClient(a config.PushAppServer) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.CAFile != "" {
		pem, err := os.ReadFile(a.CAFile)
		if err != nil {
			return nil, fmt.Errorf("pushapp: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, errors.New("pushapp: " + a.CAFile + " holds no PEM certificate")
		}
	}
	tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 4,
		IdleConnTimeout: 5 * time.Minute, TLSHandshakeTimeout: a.Timeout.D()}
	return &http.Client{Transport: tr, Timeout: a.Timeout.D()}, nil
}

// Close stops the workers; notifications still queued are dropped (the
// user's server sees no answer and keeps the registration).
func (m *Module) Close() {
	m.once.Do(func() {
		m.cancel()
		m.wg.Wait()
	})
}

// Register serves the app server's domains, lists them in disco#items of
// the served domains and adds the registration commands.
func (m *Module) Register(reg *module.Registry) {
	for d := range m.domains {
		m.cfg.Host.AddService(d, m)
	}
	reg.ServerItems(func(domain string) []module.DiscoItem {
		d := m.cfg.App.Subdomain + "." + domain
		if !m.domains[d] {
			return nil
		}
		return []module.DiscoItem{{JID: d, Name: "Push notifications"}}
	})
	m.addCommands()
}

var (
	_ module.Registrar = (*Module)(nil)
	_ module.Service   = (*Module)(nil)
)
