package config

import (
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// AdHoc configures XEP-0050 ad-hoc commands and the XEP-0133 service
// administration commands offered to the admins.
type AdHoc struct {
	// Enabled serves ad-hoc commands on the server JID.
	Enabled bool `toml:"enabled"`
	// SessionTimeout is how long a multi-stage command waits for its next
	// stage before its session is forgotten.
	SessionTimeout Duration `toml:"session_timeout"`
}

func defaultAdHoc() AdHoc {
	return AdHoc{Enabled: true, SessionTimeout: Duration(10 * time.Minute)}
}

// groupchat checks the [muc] limits, admins and [adhoc].
func (v *validator) groupchat() {
	m, d := v.c.MUC, Default().MUC
	if m.MaxRoomsPerUser < 0 {
		v.add("muc.max_rooms_per_user", fmt.Sprintf("is %d; must be 0 (no limit) or more (the default is %d)", m.MaxRoomsPerUser, d.MaxRoomsPerUser))
	}
	if m.MessageRate < 0 {
		v.add("muc.message_rate", fmt.Sprintf("is %g; must be 0 (no limit) or more (the default is %g)", m.MessageRate, d.MessageRate))
	}
	if m.MessageRate > 0 && m.MessageBurst < 1 {
		v.add("muc.message_burst", fmt.Sprintf("is %d; must be at least 1 when muc.message_rate is set (the default is %d)", m.MessageBurst, d.MessageBurst))
	}
	if m.HistoryBytes <= 0 {
		v.add("muc.history_bytes", fmt.Sprintf("is %d; must be greater than 0 (the default is %d); set muc.history_size = 0 to keep no history", m.HistoryBytes, d.HistoryBytes))
	}
	if m.HistoryTotalBytes < int64(m.HistoryBytes) {
		v.add("muc.history_total_bytes", fmt.Sprintf("is %d; must be at least muc.history_bytes (%d); the default is %d", m.HistoryTotalBytes, m.HistoryBytes, d.HistoryTotalBytes))
	}
	for i, a := range v.c.Admins {
		if j, err := jid.Parse(a); err != nil || !j.IsBare() || j.Local() == "" || j.String() != a {
			v.add("admins", fmt.Sprintf("entry %d (%q) is not a bare JID in canonical form such as \"admin@example.org\"", i+1, a))
		}
	}
	if v.c.AdHoc.SessionTimeout.D() <= 0 {
		v.add("adhoc.session_timeout", fmt.Sprintf("is %s; must be greater than 0 (the default is %s)", v.c.AdHoc.SessionTimeout.D(), defaultAdHoc().SessionTimeout.D()))
	}
}
