package config

import (
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// Push configures XEP-0357 push notifications beyond what every server
// does (the user's-server side is always on): the built-in app server.
type Push struct {
	AppServer PushAppServer `toml:"appserver"`
}

// PushAppServer is the built-in XEP-0357 App Server: a service on
// Subdomain.<each served domain> that accepts the notifications
// published to its nodes and delivers them to Apple's APNs and Google's
// FCM. Devices register with the ad-hoc commands register-push-apns and
// register-push-fcm (package pushapp).
type PushAppServer struct {
	// Enabled serves the app server.
	Enabled bool `toml:"enabled"`
	// Subdomain is the label put before each served domain to name the
	// app server ("push" → push.example.org).
	Subdomain string `toml:"subdomain"`
	// IncludeSender puts the summary's last-message-sender into the
	// payload sent to the phone; IncludeCount the message-count. Neither
	// is the message body, which a notification never carries.
	IncludeSender bool `toml:"include_sender"`
	IncludeCount  bool `toml:"include_count"`
	// MaxRegistrationsPerUser bounds the devices of one account.
	MaxRegistrationsPerUser int `toml:"max_registrations_per_user"`
	// Timeout bounds one request to APNs or FCM; Retries is how many
	// times a request answered 429 or 5xx (or not answered) is tried
	// again, with a doubling backoff starting at RetryBackoff.
	Timeout      Duration `toml:"timeout"`
	Retries      int      `toml:"retries"`
	RetryBackoff Duration `toml:"retry_backoff"`
	// Workers is how many deliveries run at once; QueueSize how many wait
	// (past it a notification is answered with resource-constraint).
	Workers   int `toml:"workers"`
	QueueSize int `toml:"queue_size"`
	// CAFile, if set, is the PEM bundle used to verify APNs, FCM and the
	// token endpoint instead of the system roots (private proxies, tests).
	CAFile string `toml:"ca_file"`

	APNs APNs `toml:"apns"`
	FCM  FCM  `toml:"fcm"`
}

// APNs configures Apple Push Notification service with token-based
// authentication (a .p8 signing key).
type APNs struct {
	// KeyFile is the .p8 (PKCS#8 PEM, P-256) key; KeyID its 10-character
	// id; TeamID the developer team. Empty KeyFile disables APNs.
	KeyFile string `toml:"key_file"`
	KeyID   string `toml:"key_id"`
	TeamID  string `toml:"team_id"`
	// URL and SandboxURL are the production and development endpoints;
	// a device registered with sandbox=true uses SandboxURL.
	URL        string `toml:"url"`
	SandboxURL string `toml:"sandbox_url"`
	// PushType is "alert" (shown to the user) or "background".
	PushType string `toml:"push_type"`
	// Priority is apns-priority: 10 (at once) or 5 (power-saving).
	Priority int `toml:"priority"`
	// Expiration is how long APNs keeps trying an offline device
	// (apns-expiration); 0 tries once.
	Expiration Duration `toml:"expiration"`
	// AlertTitle and AlertBody are the visible alert.
	AlertTitle string `toml:"alert_title"`
	AlertBody  string `toml:"alert_body"`
	// CollapseID, if set, is apns-collapse-id: newer notifications replace
	// older ones on the device.
	CollapseID string `toml:"collapse_id"`
}

// FCM configures Firebase Cloud Messaging (HTTP v1 API) with a Google
// service account.
type FCM struct {
	// CredentialsFile is the service account's JSON key (project_id,
	// client_email, private_key, token_uri). Empty disables FCM.
	CredentialsFile string `toml:"credentials_file"`
	// URL is the FCM API base; TokenURI overrides the key's token_uri
	// (where the OAuth2 access token is obtained).
	URL      string `toml:"url"`
	TokenURI string `toml:"token_uri"`
}

// DefaultPush returns Push's defaults.
func DefaultPush() Push {
	return Push{AppServer: PushAppServer{
		Subdomain: "push", IncludeCount: true, MaxRegistrationsPerUser: 16,
		Timeout: Duration(10 * time.Second), Retries: 3, RetryBackoff: Duration(500 * time.Millisecond),
		Workers: 8, QueueSize: 1024,
		APNs: APNs{URL: "https://api.push.apple.com", SandboxURL: "https://api.sandbox.push.apple.com",
			PushType: "alert", Priority: 10, Expiration: Duration(24 * time.Hour), AlertBody: "New message"},
		FCM: FCM{URL: "https://fcm.googleapis.com"},
	}}
}

// pushApp checks the [push.appserver] section.
func (v *validator) pushApp() {
	a, d := v.c.Push.AppServer, DefaultPush().AppServer
	if !a.Enabled {
		return
	}
	if j, err := jid.New("", a.Subdomain, ""); a.Subdomain == "" || err != nil || j.Domain() != a.Subdomain {
		v.add("push.appserver.subdomain", fmt.Sprintf("%q is not a domain label (the default is %q)", a.Subdomain, d.Subdomain))
	}
	v.pushDomains(a.Subdomain)
	if !v.c.AdHoc.Enabled {
		v.add("push.appserver", "is enabled but adhoc.enabled is false: devices register with ad-hoc commands")
	}
	if a.APNs.KeyFile == "" && a.FCM.CredentialsFile == "" {
		v.add("push.appserver", "is enabled with neither apns.key_file nor fcm.credentials_file; set at least one")
	}
	v.positiveDuration("push.appserver.timeout", a.Timeout, d.Timeout)
	v.positiveDuration("push.appserver.retry_backoff", a.RetryBackoff, d.RetryBackoff)
	for _, n := range []struct {
		key string
		val int
	}{{"max_registrations_per_user", a.MaxRegistrationsPerUser}, {"workers", a.Workers}, {"queue_size", a.QueueSize}} {
		if n.val <= 0 {
			v.add("push.appserver."+n.key, fmt.Sprintf("is %d; must be greater than 0", n.val))
		}
	}
	if a.Retries < 0 || a.Retries > 10 {
		v.add("push.appserver.retries", fmt.Sprintf("is %d; must be between 0 and 10 (the default is %d)", a.Retries, d.Retries))
	}
	v.pushFile("push.appserver.ca_file", a.CAFile)
	v.apns(a.APNs)
	v.fcm(a.FCM)
}

// pushDomains refuses an app server domain that another service serves.
func (v *validator) pushDomains(sub string) {
	if (v.c.MUC.Enabled && sub == v.c.MUC.Subdomain) || (v.c.PubSub.Enabled && sub == v.c.PubSub.Subdomain) {
		v.add("push.appserver.subdomain", fmt.Sprintf("is %q, which muc.subdomain or pubsub.subdomain names too", sub))
	}
	for _, d := range v.c.Domains {
		if _, ok := v.c.Components.Secrets[sub+"."+d]; ok {
			v.add("push.appserver.subdomain", fmt.Sprintf("names %s.%s, which components.secrets serves too", sub, d))
		}
	}
}

func (v *validator) apns(a APNs) {
	if a.KeyFile == "" {
		return
	}
	v.pushFile("push.appserver.apns.key_file", a.KeyFile)
	if a.KeyID == "" || a.TeamID == "" {
		v.add("push.appserver.apns", "needs key_id and team_id with key_file (from the Apple developer account)")
	}
	v.pushURL("push.appserver.apns.url", a.URL)
	v.pushURL("push.appserver.apns.sandbox_url", a.SandboxURL)
	if a.PushType != "alert" && a.PushType != "background" {
		v.add("push.appserver.apns.push_type", fmt.Sprintf("is %q; must be \"alert\" or \"background\"", a.PushType))
	}
	if a.Priority != 5 && a.Priority != 10 {
		v.add("push.appserver.apns.priority", fmt.Sprintf("is %d; must be 10 or 5", a.Priority))
	}
	if a.Expiration < 0 {
		v.add("push.appserver.apns.expiration", "must not be negative")
	}
}

func (v *validator) fcm(f FCM) {
	if f.CredentialsFile == "" {
		return
	}
	v.pushFile("push.appserver.fcm.credentials_file", f.CredentialsFile)
	v.pushURL("push.appserver.fcm.url", f.URL)
	if f.TokenURI != "" {
		v.pushURL("push.appserver.fcm.token_uri", f.TokenURI)
	}
}

func (v *validator) pushFile(key, path string) {
	if path == "" {
		return
	}
	if _, err := os.Stat(path); err != nil {
		v.add(key, fmt.Sprintf("cannot be read: %v", err))
	}
}

func (v *validator) pushURL(key, s string) {
	if u, err := url.Parse(s); err != nil || u.Scheme != "https" || u.Host == "" {
		v.add(key, fmt.Sprintf("%q is not an https URL", s))
	}
}
