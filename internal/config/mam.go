package config

import (
	"fmt"
	"time"
)

// MAM configures the message archive (XEP-0313 Message Archive
// Management).
type MAM struct {
	// Enabled archives one-to-one messages for both parties and answers
	// archive queries; when false nothing is archived.
	Enabled bool `toml:"enabled"`
	// Default is the archiving preference of an account that set none
	// (XEP-0313 §6): "always", "roster" (only contacts in the roster) or
	// "never".
	Default string `toml:"default"`
	// Retention is how long archived messages are kept; 0 keeps them
	// forever. A job removes older ones every RetentionInterval.
	Retention         Duration `toml:"retention"`
	RetentionInterval Duration `toml:"retention_interval"`
	// MaxPageSize caps the messages one query returns (the RSM <max/>
	// a client asks for is lowered to it); DefaultPageSize is the page
	// when the client gives no <max/>.
	MaxPageSize     int `toml:"max_page_size"`
	DefaultPageSize int `toml:"default_page_size"`
}

// MAM archiving preferences (XEP-0313 §6.1).
const (
	MAMAlways = "always"
	MAMRoster = "roster"
	MAMNever  = "never"
)

func defaultMAM() MAM {
	return MAM{
		Enabled: true, Default: MAMAlways,
		RetentionInterval: Duration(time.Hour),
		MaxPageSize:       250, DefaultPageSize: 50,
	}
}

func (v *validator) mam() {
	m, d := v.c.MAM, defaultMAM()
	switch m.Default {
	case MAMAlways, MAMRoster, MAMNever:
	default:
		v.add("mam.default", fmt.Sprintf("is %q; must be %q, %q or %q (the default is %q)", m.Default, MAMAlways, MAMRoster, MAMNever, d.Default))
	}
	if m.Retention < 0 {
		v.add("mam.retention", fmt.Sprintf("is %s; must be 0 (keep forever) or a positive duration such as \"8760h\"", m.Retention.D()))
	}
	if m.RetentionInterval <= 0 {
		v.add("mam.retention_interval", fmt.Sprintf("is %s; must be a positive duration (the default is %s)", m.RetentionInterval.D(), d.RetentionInterval.D()))
	}
	if m.MaxPageSize <= 0 {
		v.add("mam.max_page_size", fmt.Sprintf("is %d; must be greater than 0 (the default is %d)", m.MaxPageSize, d.MaxPageSize))
	}
	if m.DefaultPageSize <= 0 || m.DefaultPageSize > max(m.MaxPageSize, 1) {
		v.add("mam.default_page_size", fmt.Sprintf("is %d; must be between 1 and mam.max_page_size (%d); the default is %d", m.DefaultPageSize, m.MaxPageSize, d.DefaultPageSize))
	}
}
