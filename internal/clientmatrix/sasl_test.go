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
	SASL2     bool   // sent as XEP-0388 <authenticate/>
}

// withoutSASL2 is a as the server logs it: the log does not say whether
// the login came by SASL2 or the classic path.
func (a authAttempt) withoutSASL2() authAttempt {
	a.SASL2 = false
	return a
}

func (a authAttempt) String() string {
	if a.SASL2 {
		return "SASL2 " + a.withoutSASL2().String()
	}
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
// attribute order, escaped quotes in Python reprs; or a SASL2 (XEP-0388)
// <authenticate/> and its <initial-response/>.
var authElem = regexp.MustCompile(`<auth\b[^>]*?\bmechanism=\\?["']([A-Z0-9-]+)\\?["'][^>]*>([A-Za-z0-9+/=]*)</auth>` +
	`|<authenticate\b[^>]*?\bmechanism=\\?["']([A-Z0-9-]+)\\?["'][^>]*>\s*<initial-response>([A-Za-z0-9+/=]*)</initial-response>`)

// authAttempts reads every <auth/> from a client's log, in order.
func authAttempts(clientLog string) ([]authAttempt, error) {
	var out []authAttempt
	for _, m := range authElem.FindAllStringSubmatch(clientLog, -1) {
		mech, ir, sasl2 := m[1], m[2], m[3] != ""
		if sasl2 {
			mech, ir = m[3], m[4]
		}
		a := authAttempt{Mechanism: mech}
		if strings.HasPrefix(a.Mechanism, "SCRAM-") {
			first, err := base64.StdEncoding.DecodeString(ir)
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
		a.SASL2 = sasl2
		out = append(out, a)
	}
	return out, nil
}

func TestAuthAttempts(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	log := `SEND: <auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="SCRAM-SHA-512-PLUS">` + b64("p=tls-unique,,n=a,r=x") + `</auth>
DEBUG b'<auth xmlns=\'urn:ietf:params:xml:ns:xmpp-sasl\' mechanism=\'SCRAM-SHA-1\'>` + b64("y,,n=a,r=x") + `</auth>'
<auth mechanism='SCRAM-SHA-256'>` + b64("n,,n=a,r=x") + `</auth>
conn: SENT: <auth mechanism="PLAIN" xmlns="urn:ietf:params:xml:ns:xmpp-sasl">` + b64("\x00a\x00pw") + `</auth>
SEND: <authenticate xmlns="urn:xmpp:sasl:2" mechanism="SCRAM-SHA-1"><initial-response>` + b64("n,,n=a,r=x") + `</initial-response><user-agent id="u"/></authenticate>`
	got, err := authAttempts(log)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SCRAM-SHA-512-PLUS (p=tls-unique)", "SCRAM-SHA-1 (y)", "SCRAM-SHA-256 (n)", "PLAIN", "SASL2 SCRAM-SHA-1 (n)"}
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
