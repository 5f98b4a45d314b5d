package adhoc_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/xmpptest"
)

// runCommand runs node as c through its form (if it has one) with the
// raw submitted fields.
func runCommand(t *testing.T, c *xmpptest.Client, node, fields string) xmpptest.Stanza {
	t.Helper()
	res := execute(c, t, node)
	if strings.Contains(res.Inner, `status="completed"`) || res.Attr("type") == "error" {
		return res
	}
	sid := attr(t, res.Inner, "<command", "sessionid")
	return c.IQ(t, `<iq type='set' id='s' to='localhost'><command xmlns='`+nsCmd+`' node='`+node+`' sessionid='`+sid+`'>`+
		`<x xmlns='jabber:x:data' type='submit'>`+fields+`</x></command></iq>`)
}

const (
	disableUser  = "http://jabber.org/protocol/admin#disable-user"
	reenableUser = "http://jabber.org/protocol/admin#reenable-user"
	joeJIDs      = `<field var='accountjids'><value>joe@localhost</value></field>`
)

// plainLogin logs joe in with PLAIN on a raw stream (classic SASL, RFC
// 6120 §6) and returns the server's <success/> or <failure/>.
func plainLogin(t *testing.T, srv *xmpptest.Server) string {
	t.Helper()
	r := srv.Raw(t)
	r.Open("localhost")
	r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
	return r.Plain("", "joe", "pw")
}

// TestDisableUser: an admin disables joe (XEP-0133 §4.3): joe's session
// ends, and logins fail with account-disabled (RFC 6120 §6.5.1) by
// classic SASL, by SASL2 and by a FAST token joe got before; after
// re-enable (§4.4) joe logs in again. A non-admin gets forbidden.
func TestDisableUser(t *testing.T) {
	srv, root, joe := start(t)
	r, _ := srv.OpenTLS(t, "joe@localhost", tls.VersionTLS13)
	got := r.SASL2(xmpptest.SASL2Login{Mechanism: "SCRAM-SHA-256", User: "joe", Password: "pw", Agent: "phone", Count: -1,
		RequestToken: sasl.HTSHA256None})
	if !got.Success || got.Token == "" {
		t.Fatalf("SASL2 login with request-token: %+v", got)
	}

	if res := runCommand(t, joe, disableUser, `<field var='accountjids'><value>root@localhost</value></field>`); !isErr(res, "forbidden") {
		t.Fatalf("non-admin disable: %s", res.Inner)
	}
	if res := runCommand(t, root, disableUser, joeJIDs); !strings.Contains(res.Inner, `status="completed"`) {
		t.Fatalf("disable: %s", res.Inner)
	}
	joe.Done(t, wait) // fails the test if the session stays open

	if out := plainLogin(t, srv); !strings.Contains(out, "<account-disabled/>") {
		t.Errorf("classic SASL login of a disabled account: %q", out)
	}
	r, _ = srv.OpenTLS(t, "joe@localhost", tls.VersionTLS13)
	if res := r.SASL2(xmpptest.SASL2Login{Mechanism: "SCRAM-SHA-256", User: "joe", Password: "pw", Count: -1}); res.Condition != "account-disabled" {
		t.Errorf("SASL2 login of a disabled account: %+v", res)
	}
	r, _ = srv.OpenTLS(t, "joe@localhost", tls.VersionTLS13)
	if res := r.SASL2(xmpptest.SASL2Login{Mechanism: sasl.HTSHA256None, User: "joe", Token: got.Token, Agent: "phone", Count: 1}); res.Condition != "account-disabled" {
		t.Errorf("FAST login of a disabled account: %+v", res)
	}

	if res := runCommand(t, root, reenableUser, joeJIDs); !strings.Contains(res.Inner, `status="completed"`) {
		t.Fatalf("re-enable: %s", res.Inner)
	}
	if out := plainLogin(t, srv); !strings.Contains(out, "success") {
		t.Errorf("classic SASL login after re-enable: %q", out)
	}
	srv.Dial(t, "joe@localhost", "pw", xmpptest.DialOptions{})

	if res := runCommand(t, root, disableUser, `<field var='accountjids'><value>nobody@localhost</value></field>`); !isErr(res, "item-not-found") {
		t.Errorf("disable of a missing account: %s", res.Inner)
	}
}

// TestUserStats: get-user-stats (XEP-0133 §4.10) reports joe's roster
// size, online resource and the address the session connects from.
func TestUserStats(t *testing.T) {
	_, root, joe := start(t)
	for i, c := range []string{"ann@example.net", "bob@example.net"} {
		res := joe.IQ(t, `<iq type='set' id='r`+string(rune('0'+i))+`'><query xmlns='jabber:iq:roster'><item jid='`+c+`'/></query></iq>`)
		if res.Attr("type") != "result" {
			t.Fatalf("roster set: %s", res.Inner)
		}
	}
	stats := runCommand(t, root, "http://jabber.org/protocol/admin#user-stats", `<field var='accountjid'><value>joe@localhost</value></field>`)
	for field, want := range map[string]string{"rostersize": "2", "onlineresources": joe.JID.String(), "ipaddresses": "127.0.0.1"} {
		_, rest, _ := strings.Cut(stats.Inner, `var="`+field+`"`)
		rest, _, _ = strings.Cut(rest, "</field>")
		if !strings.Contains(rest, ">"+want+"</value>") {
			t.Errorf("user stats: %s is %q, want %s", field, rest, want)
		}
	}
	if res := runCommand(t, joe, "http://jabber.org/protocol/admin#user-stats", `<field var='accountjid'><value>joe@localhost</value></field>`); !isErr(res, "forbidden") {
		t.Errorf("non-admin user-stats: %s", res.Inner)
	}
}
