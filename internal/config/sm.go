package config

import (
	"fmt"
	"net"
	"time"
)

// SM configures XEP-0198 stream management for client sessions: acks,
// and resumption of a session whose connection vanished.
type SM struct {
	// Enabled offers stream management (the <sm/> stream feature).
	Enabled bool `toml:"enabled"`
	// ResumeWindow is how long a session whose connection ended without a
	// close waits for the client to resume it; it is also the largest
	// 'max' a client may ask for (XEP-0198 §5). When it passes, the
	// unacknowledged messages go to offline storage and the session ends.
	ResumeWindow Duration `toml:"resume_window"`
	// MaxUnacked bounds the stanzas the server keeps for a client that
	// has not acknowledged them; past it the session ends as a slow
	// consumer and what it held is routed as if the session were gone
	// (offline storage), never dropped.
	MaxUnacked int `toml:"max_unacked"`
	// RequestAckAfter is how many stanzas the server sends before it asks
	// the client for an ack (<r/>); it also asks before a silent session
	// parks. One request is outstanding at a time.
	RequestAckAfter int `toml:"request_ack_after"`
	// Location is the host:port the server prefers clients to reconnect
	// to when they resume (the 'location' attribute of <enabled/>); ""
	// leaves it out.
	Location string `toml:"location"`
}

// defaultSM is SM's defaults (Default uses it).
func defaultSM() SM {
	return SM{Enabled: true, ResumeWindow: Duration(5 * time.Minute), MaxUnacked: 5000, RequestAckAfter: 5}
}

// sm checks the [sm] section.
func (v *validator) sm() {
	c, def := v.c.SM, defaultSM()
	v.positiveDuration("sm.resume_window", c.ResumeWindow, def.ResumeWindow)
	if c.MaxUnacked <= 0 {
		v.add("sm.max_unacked", fmt.Sprintf("is %d; must be greater than 0 (the default is %d)", c.MaxUnacked, def.MaxUnacked))
	}
	if c.RequestAckAfter <= 0 || c.MaxUnacked > 0 && c.RequestAckAfter > c.MaxUnacked {
		v.add("sm.request_ack_after", fmt.Sprintf("is %d; must be between 1 and sm.max_unacked (%d); the default is %d",
			c.RequestAckAfter, c.MaxUnacked, def.RequestAckAfter))
	}
	if c.Location != "" {
		if _, _, err := net.SplitHostPort(c.Location); err != nil {
			v.add("sm.location", fmt.Sprintf("%q is not host:port; write e.g. \"xmpp.example.com:5222\", or leave it empty", c.Location))
		}
	}
}
