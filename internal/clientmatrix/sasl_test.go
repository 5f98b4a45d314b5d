package clientmatrix

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// authAttempt is one <auth/> a client sent: the mechanism and, for SCRAM,
// what its GS2 header (RFC 5802 §7) says about channel binding.
type authAttempt struct {
	Mechanism string
	Binding   string // the cb-name after "p=", or "" when none was used
	Flag      string // "p", "n", "y", or "" (not SCRAM)
}

func (a authAttempt) String() string {
	switch a.Flag {
	case "p":
		return a.Mechanism + " (p=" + a.Binding + ")"
	case "":
		return a.Mechanism
	default:
		return a.Mechanism + " (" + a.Flag + ")"
	}
}

// bindingText says in words which channel binding an attempt used.
func (a authAttempt) bindingText() string {
	switch a.Flag {
	case "p":
		return a.Binding
	case "n":
		return "none (n: client does not support binding)"
	case "y":
		return "none (y: client supports binding, thinks the server does not)"
	default:
		return "none (" + a.Mechanism + ")"
	}
}

// gs2Attempt reads a GS2 channel-binding flag ("n", "y", "p=TYPE"); any
// other flag leaves Flag empty.
func gs2Attempt(mech, flag string) authAttempt {
	a := authAttempt{Mechanism: mech}
	switch {
	case flag == "n" || flag == "y":
		a.Flag = flag
	case strings.HasPrefix(flag, "p="):
		a.Flag, a.Binding = "p", strings.TrimPrefix(flag, "p=")
	}
	return a
}

// authElem matches an <auth/> element as clients log it: either quote, any
// attribute order, escaped quotes in Python reprs.
var authElem = regexp.MustCompile(`<auth\b[^>]*?\bmechanism=\\?["']([A-Z0-9-]+)\\?["'][^>]*>([A-Za-z0-9+/=]*)</auth>`)

// authAttempts reads every <auth/> from a client's log, in order.
func authAttempts(clientLog string) ([]authAttempt, error) {
	var out []authAttempt
	for _, m := range authElem.FindAllStringSubmatch(clientLog, -1) {
		a := authAttempt{Mechanism: m[1]}
		if strings.HasPrefix(a.Mechanism, "SCRAM-") {
			first, err := base64.StdEncoding.DecodeString(m[2])
			if err != nil {
				return nil, fmt.Errorf("auth %s: initial response not base64: %w", a.Mechanism, err)
			}
			flag, _, ok := strings.Cut(string(first), ",")
			if !ok {
				return nil, fmt.Errorf("auth %s: no GS2 header in %q", a.Mechanism, first)
			}
			if a = gs2Attempt(a.Mechanism, flag); a.Flag == "" {
				return nil, fmt.Errorf("auth %s: bad GS2 flag %q", a.Mechanism, flag)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

func TestAuthAttempts(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	log := `SEND: <auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="SCRAM-SHA-512-PLUS">` + b64("p=tls-unique,,n=a,r=x") + `</auth>
DEBUG b'<auth xmlns=\'urn:ietf:params:xml:ns:xmpp-sasl\' mechanism=\'SCRAM-SHA-1\'>` + b64("y,,n=a,r=x") + `</auth>'
<auth mechanism='SCRAM-SHA-256'>` + b64("n,,n=a,r=x") + `</auth>
conn: SENT: <auth mechanism="PLAIN" xmlns="urn:ietf:params:xml:ns:xmpp-sasl">` + b64("\x00a\x00pw") + `</auth>`
	got, err := authAttempts(log)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SCRAM-SHA-512-PLUS (p=tls-unique)", "SCRAM-SHA-1 (y)", "SCRAM-SHA-256 (n)", "PLAIN"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("attempt %d = %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := authAttempts(`<auth mechanism="SCRAM-SHA-1">` + b64("q,,n=a") + `</auth>`); err == nil {
		t.Error("a bad GS2 flag was accepted")
	}
}
