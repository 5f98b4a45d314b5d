package admin

import (
	"io"
	"testing"
	"time"
)

// TestTemplatesExecute: every page renders with empty data and with a
// login (a broken template would answer an empty page).
func TestTemplatesExecute(t *testing.T) {
	ts := parseTemplates()
	data := map[string]any{
		"Stats": Stats{ByTransport: map[string]int{"tcp": 1}}, "Points": []sample{{at: time.Now()}, {at: time.Now(), sessions: 2}},
		"Services": []string{"conference.localhost"}, "Users": []struct{}{}, "Sessions": []SessionRow{}, "Rooms": []Room{},
		"Entries": []AuditEntry{}, "Groups": []Group{}, "Settings": []struct{}{},
		"Usage": []UploadUsage{}, "Total": uploadTotals{}, "MaxFileSize": int64(1), "Quota": int64(0), "ExpireAfter": "1h",
	}
	for _, n := range pageNames {
		for _, lg := range []*login{nil, {csrf: "x"}} {
			if err := ts[n].ExecuteTemplate(io.Discard, n, page{Nav: n, Login: lg, Data: data}); err != nil {
				t.Errorf("%s (login %v): %v", n, lg != nil, err)
			}
		}
	}
}
