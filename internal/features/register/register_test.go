package register_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/stream"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 5 * time.Second

const featureReg = `<register xmlns="http://jabber.org/features/iq-register"`

func enabled(c *config.Config) { c.AllowRegistration = true }

// preAuth opens a stream, negotiates TLS and returns the socket and the
// features offered after TLS.
func preAuth(t *testing.T, srv *xmpptest.Server) (*xmpptest.Raw, string) {
	t.Helper()
	r := srv.Raw(t)
	r.Open("localhost")
	return r, r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
}

// iq sends a raw iq and returns the reply (up to its end).
func iq(t *testing.T, r *xmpptest.Raw, raw string) string {
	t.Helper()
	r.Write(raw)
	out, err := r.ReadUntilAny([]string{"</iq>", `type="result"/>`}, wait)
	if err != nil {
		t.Fatalf("no iq reply to %s: %v; got %q", raw, err, out)
	}
	return out
}

func setQuery(id, user, password string) string {
	return "<iq type='set' id='" + id + "'><query xmlns='jabber:iq:register'><username>" + user +
		"</username><password>" + password + "</password></query></iq>"
}

func isResult(s string) bool { return strings.Contains(s, `type="result"`) }

func TestRegistrationDisabled(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "alice password")
	r, features := preAuth(t, srv)
	if strings.Contains(features, featureReg) {
		t.Fatalf("registration offered while disabled: %s", features)
	}
	if got := iq(t, r, "<iq type='get' id='g1'><query xmlns='jabber:iq:register'/></iq>"); !strings.Contains(got, "<service-unavailable") {
		t.Errorf("fields while disabled: %s", got)
	}
	got := iq(t, r, setQuery("s1", "mallory", "mallory password"))
	if !strings.Contains(got, "<not-allowed") || strings.Contains(got, "mallory password") {
		t.Errorf("registration while disabled: %s", got)
	}
	if ok, _ := srv.Accounts().Exists(context.Background(), jid.MustParse("mallory@localhost")); ok {
		t.Fatal("account created while registration is disabled")
	}
	// The stream is still good for logging in.
	if out := r.Plain("", "alice", "alice password"); !strings.Contains(out, "success") {
		t.Fatalf("login after refused registration: %s", out)
	}
}

func TestRegisterThenLogin(t *testing.T) {
	srv := xmpptest.Start(t, enabled)
	r := srv.Raw(t)
	if before := r.Open("localhost"); strings.Contains(before, featureReg) {
		t.Fatalf("registration offered before TLS: %s", before)
	}
	features := r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
	if !strings.Contains(features, featureReg) {
		t.Fatalf("registration not offered after TLS: %s", features)
	}
	got := iq(t, r, "<iq type='get' id='g1' to='localhost'><query xmlns='jabber:iq:register'/></iq>")
	for _, want := range []string{"<username/>", "<password/>", "<instructions>"} {
		if !strings.Contains(got, want) {
			t.Errorf("fields lack %s: %s", want, got)
		}
	}
	if got := iq(t, r, setQuery("s1", "Newbie", "newbie password")); !isResult(got) {
		t.Fatalf("registration: %s", got)
	}
	// The same stream authenticates with the new account (XEP-0077 §3.1.1).
	if out := r.Plain("", "newbie", "newbie password"); !strings.Contains(out, "success") {
		t.Fatalf("login on the registering stream: %s", out)
	}
	c := srv.Dial(t, "newbie@localhost", "newbie password", xmpptest.DialOptions{})
	if c.JID.Bare().String() != "newbie@localhost" {
		t.Fatalf("bound as %s", c.JID)
	}
}

func TestRegistrationErrors(t *testing.T) {
	srv := xmpptest.Start(t, enabled)
	srv.AddUser(t, "taken@localhost", "taken password")
	cases := []struct {
		name, send, want string
	}{
		{"existing user", setQuery("e1", "taken", "another password"), "<conflict"},
		{"existing user in other case", setQuery("e2", "TAKEN", "another password"), "<conflict"},
		{"missing password", "<iq type='set' id='e3'><query xmlns='jabber:iq:register'><username>bob</username></query></iq>", "<not-acceptable"},
		{"missing username", "<iq type='set' id='e4'><query xmlns='jabber:iq:register'><password>long enough pw</password></query></iq>", "<not-acceptable"},
		{"empty password", setQuery("e5", "bob", ""), "<not-acceptable"},
		{"weak password", setQuery("e6", "bob", "short"), "<not-acceptable"},
		{"password is the username", setQuery("e7", "bobbybobby", "BobbyBobby"), "<not-acceptable"},
		{"bad username", setQuery("e8", "bob@evil", "long enough pw"), "<not-acceptable"},
		{"username with a space", setQuery("e9", "bob smith", "long enough pw"), "<not-acceptable"},
		{"remove before login", "<iq type='set' id='e10'><query xmlns='jabber:iq:register'><remove/></query></iq>", "<unexpected-request"},
		{"no id", "<iq type='get'><query xmlns='jabber:iq:register'/></iq>", "<bad-request"},
		{"two payloads", "<iq type='get' id='e11'><query xmlns='jabber:iq:register'/><query xmlns='jabber:iq:register'/></iq>", "<bad-request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := preAuth(t, srv)
			got := iq(t, r, tc.send)
			if !strings.Contains(got, `type="error"`) || !strings.Contains(got, tc.want) {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			for _, pw := range []string{"another password", "long enough pw", "BobbyBobby"} {
				if strings.Contains(got, pw) {
					t.Errorf("error reply echoes the password: %s", got)
				}
			}
		})
	}
	if ok, _ := srv.Accounts().Exists(context.Background(), jid.MustParse("bob@localhost")); ok {
		t.Error("an invalid registration created bob")
	}
}

func TestRegistrationNeedsTLS(t *testing.T) {
	srv := xmpptest.Start(t, enabled)
	r := srv.Raw(t)
	r.Open("localhost")
	r.Write(setQuery("s1", "plain", "plaintext password"))
	out, closed := r.ReadToEOF(wait)
	if !closed || !strings.Contains(out, "policy-violation") {
		t.Fatalf("registration before STARTTLS: closed=%v %q", closed, out)
	}
}

func TestRegistrationCountsAgainstPreAuthBudget(t *testing.T) {
	srv := xmpptest.Start(t, enabled, func(c *config.Config) { c.Limits.PreAuthElements = 5 })
	r, _ := preAuth(t, srv) // <starttls/> is element 1
	for i := range 4 {
		if got := iq(t, r, "<iq type='get' id='g"+string(rune('0'+i))+"'><query xmlns='jabber:iq:register'/></iq>"); !isResult(got) {
			t.Fatalf("get %d: %s", i, got)
		}
	}
	r.Write("<iq type='get' id='over'><query xmlns='jabber:iq:register'/></iq>")
	out, closed := r.ReadToEOF(wait)
	if !closed || !strings.Contains(out, "policy-violation") {
		t.Fatalf("past the pre-auth budget: closed=%v %q", closed, out)
	}
}

func TestRegistrationThrottle(t *testing.T) {
	cases := []struct {
		name    string
		exempt  bool
		created int // of 3 attempts
	}{
		{"loopback exempt (default)", true, 3},
		{"exemption off", false, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := xmpptest.Start(t, enabled, func(c *config.Config) {
				c.Limits.RegistrationsPerIPPerHour = 2
				c.Limits.ExemptLoopback = tc.exempt
			})
			created := 0
			for i, user := range []string{"u1", "u2", "u3"} {
				r, _ := preAuth(t, srv)
				got := iq(t, r, setQuery("t"+user, user, "throttle password"))
				switch {
				case isResult(got):
					created++
				case strings.Contains(got, "<resource-constraint") && strings.Contains(got, `type="wait"`):
					if i < tc.created {
						t.Fatalf("%s throttled early: %s", user, got)
					}
				default:
					t.Fatalf("%s: %s", user, got)
				}
			}
			if created != tc.created {
				t.Fatalf("created %d accounts, want %d", created, tc.created)
			}
		})
	}
}

func TestPasswordChange(t *testing.T) {
	// Registration stays off: changing one's password is always allowed.
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "old password")
	srv.AddUser(t, "bob@localhost", "bob password")
	alice := srv.Dial(t, "alice@localhost", "old password", xmpptest.DialOptions{})
	errCases := []struct {
		name, query, want string
	}{
		{"someone else's", "<username>bob</username><password>hijacked pw</password>", "forbidden"},
		{"no password", "<username>alice</username>", "bad-request"},
		{"empty password", "<username>alice</username><password/>", "not-acceptable"},
		{"weak password", "<username>alice</username><password>abc</password>", "not-acceptable"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			res := alice.IQ(t, "<iq type='set' id='pc' to='localhost'><query xmlns='jabber:iq:register'>"+tc.query+"</query></iq>")
			if res.Attr("type") != "error" || !strings.Contains(res.Inner, tc.want) || strings.Contains(res.Inner, "hijacked") {
				t.Fatalf("got %s %s", res.Attr("type"), res.Inner)
			}
		})
	}
	if _, err := srv.DialErr(t, "bob@localhost", "hijacked pw", xmpptest.DialOptions{}); err == nil {
		t.Fatal("alice changed bob's password")
	}
	get := alice.IQ(t, "<iq type='get' id='g'><query xmlns='jabber:iq:register'/></iq>")
	if !strings.Contains(get.Inner, "registered") || !strings.Contains(get.Inner, "alice") {
		t.Fatalf("registration info when logged in: %s", get.Inner)
	}
	res := alice.IQ(t, "<iq type='set' id='pc'><query xmlns='jabber:iq:register'><username>Alice</username><password>new password</password></query></iq>")
	if res.Attr("type") != "result" {
		t.Fatalf("password change: %s", res.Inner)
	}
	if _, err := srv.DialErr(t, "alice@localhost", "old password", xmpptest.DialOptions{}); err == nil {
		t.Fatal("old password still works")
	}
	srv.Dial(t, "alice@localhost", "new password", xmpptest.DialOptions{})
}

func TestRemoveAccount(t *testing.T) {
	srv := xmpptest.Start(t) // registration off: removal is always allowed
	srv.AddUser(t, "alice@localhost", "alice password")
	srv.AddUser(t, "bob@localhost", "bob password")
	a1 := srv.Dial(t, "alice@localhost", "alice password", xmpptest.DialOptions{})
	a2 := srv.Dial(t, "alice@localhost", "alice password", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "bob password", xmpptest.DialOptions{})

	bad := a1.IQ(t, "<iq type='set' id='r0'><query xmlns='jabber:iq:register'><remove/><username>alice</username></query></iq>")
	if bad.Attr("type") != "error" || !strings.Contains(bad.Inner, "bad-request") {
		t.Fatalf("remove with extra child: %s", bad.Inner)
	}
	res := a1.IQ(t, "<iq type='set' id='r1'><query xmlns='jabber:iq:register'><remove/></query></iq>")
	if res.Attr("type") != "result" {
		t.Fatalf("remove: %s %s", res.Attr("type"), res.Inner)
	}
	for _, c := range []*xmpptest.Client{a1, a2} {
		var se stream.Error
		if err := c.Done(t, wait); !errors.As(err, &se) || se.Err != "not-authorized" {
			t.Errorf("%s ended with %v, want not-authorized", c.JID, err)
		}
	}
	if ok, err := srv.Accounts().Exists(context.Background(), jid.MustParse("alice@localhost")); err != nil || ok {
		t.Fatalf("account still exists: %v %v", ok, err)
	}
	if _, err := srv.DialErr(t, "alice@localhost", "alice password", xmpptest.DialOptions{}); err == nil {
		t.Fatal("removed account can log in")
	}
	deadline := time.Now().Add(wait)
	for len(srv.Router().Sessions(jid.MustParse("alice@localhost"))) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("alice's sessions still bound")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if res := bob.IQ(t, "<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"); res.Attr("type") != "result" {
		t.Fatalf("bob affected: %+v", res)
	}
}
