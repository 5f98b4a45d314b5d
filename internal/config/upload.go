package config

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// Upload configures XEP-0363 HTTP File Upload: a service on
// <subdomain>.<domain> hands out signed PUT/GET URLs on the public HTTP
// server ([http]); the files are kept under Dir.
type Upload struct {
	// Enabled offers the service; it needs an [http] listener (addr or
	// tls_addr) or a public_url, and is ignored (off) without one.
	Enabled bool `toml:"enabled"`
	// Subdomain is the service's domain under each served domain.
	Subdomain string `toml:"subdomain"`
	// MaxFileSize is the largest file one slot may hold, in bytes (announced
	// in disco#info, XEP-0363 §4).
	MaxFileSize int64 `toml:"max_file_size"`
	// QuotaPerUser bounds the bytes one account keeps at once (its files
	// and unused slots); 0 is no quota.
	QuotaPerUser int64 `toml:"quota_per_user"`
	// SlotsPerMinute bounds one account's slot requests (bursts of that
	// many, refilled at that rate); 0 is no limit.
	SlotsPerMinute int `toml:"slots_per_minute"`
	// ExpireAfter is how long an uploaded file is kept; a background job
	// deletes it and its record afterwards.
	ExpireAfter Duration `toml:"expire_after"`
	// SlotTimeout is how long a client has to PUT the file after it got
	// the slot; an unused slot is then dropped.
	SlotTimeout Duration `toml:"slot_timeout"`
	// Dir holds the files and the signing secret; "" is data_dir/uploads.
	Dir string `toml:"dir"`
	// PublicURL is the base URL clients reach the HTTP server at (e.g.
	// "https://upload.example.org" behind a proxy); "" derives it from the
	// domain and the bound HTTPS (else HTTP) port.
	PublicURL string `toml:"public_url"`
}

// defaultUpload is Upload's defaults (Default uses it).
func defaultUpload() Upload {
	return Upload{Enabled: true, Subdomain: "upload", MaxFileSize: 100 << 20, QuotaPerUser: 1 << 30, SlotsPerMinute: 60,
		ExpireAfter: Duration(30 * 24 * time.Hour), SlotTimeout: Duration(5 * time.Minute)}
}

// UploadDir is the directory of uploaded files (upload.dir or
// data_dir/uploads).
func (c *Config) UploadDir() string {
	if c.Upload.Dir != "" {
		return c.Upload.Dir
	}
	return filepath.Join(c.DataDir, "uploads")
}

// UploadActive reports whether the upload service runs: enabled, and
// reachable over HTTP.
func (c *Config) UploadActive() bool {
	return c.Upload.Enabled && (c.HTTP.Addr != "" || c.HTTP.TLSAddr != "" || c.Upload.PublicURL != "")
}

// upload checks the [upload] section.
func (v *validator) upload() {
	u, def := v.c.Upload, defaultUpload()
	if !u.Enabled {
		return
	}
	if j, err := jid.New("", u.Subdomain, ""); u.Subdomain == "" || err != nil || j.Domain() != u.Subdomain {
		v.add("upload.subdomain", fmt.Sprintf("is %q; must be DNS labels in canonical (lower-case) form, such as %q", u.Subdomain, def.Subdomain))
	}
	if (v.c.MUC.Enabled && v.c.MUC.Subdomain == u.Subdomain) || (v.c.PubSub.Enabled && v.c.PubSub.Subdomain == u.Subdomain) {
		v.add("upload.subdomain", fmt.Sprintf("is %q, which muc.subdomain or pubsub.subdomain names too; choose another", u.Subdomain))
	}
	if u.MaxFileSize <= 0 {
		v.add("upload.max_file_size", fmt.Sprintf("is %d; must be greater than 0 bytes (the default is %d, 100 MiB)", u.MaxFileSize, def.MaxFileSize))
	}
	if u.QuotaPerUser < 0 {
		v.add("upload.quota_per_user", fmt.Sprintf("is %d; must be 0 (no quota) or a number of bytes", u.QuotaPerUser))
	}
	if u.SlotsPerMinute < 0 {
		v.add("upload.slots_per_minute", fmt.Sprintf("is %d; must be 0 (no limit) or more (the default is %d)", u.SlotsPerMinute, def.SlotsPerMinute))
	}
	v.positiveDuration("upload.expire_after", u.ExpireAfter, def.ExpireAfter)
	v.positiveDuration("upload.slot_timeout", u.SlotTimeout, def.SlotTimeout)
	v.publicURL("upload.public_url", u.PublicURL, "http", "https://upload.example.org")
}
