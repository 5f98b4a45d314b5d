package config

import (
	"fmt"
	"time"
)

// SASL2 configures XEP-0388 (Extensible SASL Profile), XEP-0386 (Bind 2)
// and XEP-0484 (FAST tokens). The classic RFC 6120 SASL path is always
// offered beside it; SASL2 uses the same mechanisms and channel-binding
// policy ([auth]).
type SASL2 struct {
	// Enabled offers <authentication xmlns='urn:xmpp:sasl:2'/> (with Bind 2
	// inline) before authentication.
	Enabled bool `toml:"enabled"`
	// FAST offers XEP-0484 token authentication inside SASL2.
	FAST bool `toml:"fast"`
	// FASTTokenLifetime is how long a FAST token is valid after it is
	// issued. A token used after half its lifetime is rotated: the
	// server sends a new one in the login's <success/>.
	FASTTokenLifetime Duration `toml:"fast_token_lifetime"`
	// FASTMaxTokens bounds the tokens one account holds (each device
	// holds one, two while a rotation is in flight); past it the oldest is
	// evicted.
	FASTMaxTokens int `toml:"fast_max_tokens"`
}

// defaultSASL2 is the [sasl2] section's defaults.
func defaultSASL2() SASL2 {
	return SASL2{Enabled: true, FAST: true, FASTTokenLifetime: Duration(14 * 24 * time.Hour), FASTMaxTokens: 20}
}

// sasl2 checks the [sasl2] section.
func (v *validator) sasl2() {
	s, d := v.c.SASL2, defaultSASL2()
	if !s.Enabled && s.FAST {
		v.add("sasl2.fast", "is true but sasl2.enabled is false; FAST (XEP-0484) runs only inside SASL2: enable sasl2 or set fast = false")
	}
	if s.FASTTokenLifetime.D() < time.Minute {
		v.add("sasl2.fast_token_lifetime", fmt.Sprintf("is %s; must be at least 1m (the default is %s)", s.FASTTokenLifetime.D(), d.FASTTokenLifetime.D()))
	}
	if s.FASTMaxTokens <= 0 {
		v.add("sasl2.fast_max_tokens", fmt.Sprintf("is %d; must be greater than 0 (the default is %d); set fast = false to issue no tokens", s.FASTMaxTokens, d.FASTMaxTokens))
	}
}
