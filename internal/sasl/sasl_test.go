package sasl

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	msasl "mellium.im/sasl"
)

// runOwn drives s with the RFC 5802 test client and returns the number of
// server steps taken and the server's error.
func runOwn(tb testing.TB, s *Server, c *testClient) (steps int, err error) {
	tb.Helper()
	ctx := context.Background()
	out, done, err := s.Step(ctx, c.first())
	steps++
	if err != nil {
		return steps, err
	}
	if done {
		tb.Fatal("done after client-first")
	}
	final, err := c.final(out)
	if err != nil {
		tb.Fatalf("client: %v", err)
	}
	out, done, err = s.Step(ctx, final)
	steps++
	if err != nil {
		return steps, err
	}
	if !done {
		tb.Fatal("not done after client-final")
	}
	if err := c.verify(out); err != nil {
		tb.Fatalf("client: %v", err)
	}
	return steps, nil
}

// runMellium drives s with a mellium.im/sasl client.
func runMellium(tb testing.TB, s *Server, m msasl.Mechanism, opts ...msasl.Option) error {
	tb.Helper()
	ctx := context.Background()
	c := msasl.NewClient(m, opts...)
	more, resp, err := c.Step(nil)
	if err != nil {
		tb.Fatalf("mellium start: %v", err)
	}
	for i := 0; i < 5; i++ {
		out, done, err := s.Step(ctx, resp)
		if err != nil {
			return err
		}
		if done {
			if more {
				if _, _, err := c.Step(out); err != nil {
					tb.Fatalf("mellium rejected the server's success data %q: %v", out, err)
				}
			}
			return nil
		}
		if !more {
			tb.Fatal("server wants more but the client is done")
		}
		if more, resp, err = c.Step(out); err != nil {
			tb.Fatalf("mellium step: %v", err)
		}
	}
	tb.Fatal("too many steps")
	return nil
}

func creds(user, pass, authzid string) msasl.Option {
	return msasl.Credentials(func() ([]byte, []byte, []byte) {
		return []byte(user), []byte(pass), []byte(authzid)
	})
}

func TestExchange(t *testing.T) {
	tls13 := newTLSEnv(t, tls.VersionTLS13, certP256)
	tls12 := newTLSEnv(t, tls.VersionTLS12, certP256)
	tls13p384 := newTLSEnv(t, tls.VersionTLS13, certP384)
	tls12p521 := newTLSEnv(t, tls.VersionTLS12, certP521)
	tls12nu := tls12 // a resumption without extended master secret: no tls-unique
	tls12nu.server.TLSUnique = nil
	lookup := newLookup(t)
	noTLS := Options{Lookup: lookup}
	with := func(e tlsEnv, cert bool) Options {
		o := Options{Lookup: lookup, TLS: &e.server}
		if cert {
			o.ServerCert = e.cert
		}
		return o
	}
	exporter := func(e tlsEnv) []byte {
		b, err := e.client.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	type tc struct {
		name        string
		mech        string
		opts        Options
		mellium     *msasl.Mechanism
		melliumOpts []msasl.Option
		own         *testClient
		noInitial   bool // send an empty initial response first
		wantUser    string
		wantAuthzid string
	}
	m := func(x msasl.Mechanism) *msasl.Mechanism { return &x }
	cases := []tc{
		// mellium.im/sasl as the client.
		{name: "SCRAM-SHA-1/mellium", mech: ScramSHA1, opts: noTLS, mellium: m(msasl.ScramSha1),
			melliumOpts: []msasl.Option{creds("juliet", "r0m30myr0m30", "")}, wantUser: "juliet"},
		{name: "SCRAM-SHA-256/mellium", mech: ScramSHA256, opts: noTLS, mellium: m(msasl.ScramSha256),
			melliumOpts: []msasl.Option{creds("juliet", "r0m30myr0m30", "")}, wantUser: "juliet"},
		{name: "SCRAM-SHA-256/mellium/TLS1.3 without binding", mech: ScramSHA256, opts: with(tls13, true), mellium: m(msasl.ScramSha256),
			melliumOpts: []msasl.Option{creds("romeo", "pencil", ""), msasl.TLSState(tls13.client)}, wantUser: "romeo"},
		{name: "SCRAM-SHA-1-PLUS/mellium/tls-exporter", mech: ScramSHA1Plus, opts: with(tls13, false), mellium: m(msasl.ScramSha1Plus),
			melliumOpts: []msasl.Option{creds("juliet", "r0m30myr0m30", ""), msasl.TLSState(tls13.client),
				msasl.RemoteMechanisms(Mechanisms(with(tls13, false))...)}, wantUser: "juliet"},
		{name: "SCRAM-SHA-256-PLUS/mellium/tls-exporter", mech: ScramSHA256Plus, opts: with(tls13, true), mellium: m(msasl.ScramSha256Plus),
			melliumOpts: []msasl.Option{creds("juliet", "r0m30myr0m30", ""), msasl.TLSState(tls13.client),
				msasl.RemoteMechanisms(Mechanisms(with(tls13, true))...)}, wantUser: "juliet"},
		{name: "SCRAM-SHA-256/mellium/authzid", mech: ScramSHA256, opts: noTLS, mellium: m(msasl.ScramSha256),
			melliumOpts: []msasl.Option{creds("romeo", "pencil", "romeo@example.net")}, wantUser: "romeo", wantAuthzid: "romeo@example.net"},
		{name: "SCRAM-SHA-256/mellium/escaped name", mech: ScramSHA256, opts: noTLS, mellium: m(msasl.ScramSha256),
			melliumOpts: []msasl.Option{creds("a,b=c", "weird name", "")}, wantUser: "a,b=c"},
		{name: "PLAIN/mellium/TLS1.3", mech: Plain, opts: with(tls13, true), mellium: m(msasl.Plain),
			melliumOpts: []msasl.Option{creds("juliet", "r0m30myr0m30", "")}, wantUser: "juliet"},
		{name: "PLAIN/mellium/authzid", mech: Plain, opts: with(tls12, false), mellium: m(msasl.Plain),
			melliumOpts: []msasl.Option{creds("romeo", "pencil", "romeo@example.net")}, wantUser: "romeo", wantAuthzid: "romeo@example.net"},
		{name: "PLAIN/mellium/insecure allowed", mech: Plain, opts: Options{Lookup: lookup, AllowInsecurePlain: true}, mellium: m(msasl.Plain),
			melliumOpts: []msasl.Option{creds("romeo", "pencil", "")}, wantUser: "romeo"},
		{name: "PLAIN/mellium/SHA-1 credentials only", mech: Plain, opts: with(tls13, false), mellium: m(msasl.Plain),
			melliumOpts: []msasl.Option{creds("sha1only", "old", "")}, wantUser: "sha1only"},
		{name: "PLAIN/mellium/SHA-512 credentials only", mech: Plain, opts: with(tls13, false), mellium: m(msasl.Plain),
			melliumOpts: []msasl.Option{creds("sha512only", "new", "")}, wantUser: "sha512only"},
		{name: "PLAIN/mellium/prepared password", mech: Plain, opts: with(tls13, false), mellium: m(msasl.Plain),
			melliumOpts: []msasl.Option{creds("nurse", "pass\u00a0word", "")}, wantUser: "nurse"},
		{name: "PLAIN/mellium/no initial response", mech: Plain, opts: with(tls13, false), mellium: m(msasl.Plain), noInitial: true,
			melliumOpts: []msasl.Option{creds("romeo", "pencil", "")}, wantUser: "romeo"},

		// The RFC 5802 test client.
		{name: "SCRAM-SHA-512/own", mech: ScramSHA512, opts: noTLS,
			own: &testClient{hashName: "SHA-512", user: "juliet", password: "r0m30myr0m30"}, wantUser: "juliet"},
		{name: "SCRAM-SHA-512-PLUS/own/tls-exporter", mech: ScramSHA512Plus, opts: with(tls13, true),
			own:      &testClient{hashName: "SHA-512", user: "juliet", password: "r0m30myr0m30", flag: "p=tls-exporter", cbData: exporter(tls13)},
			wantUser: "juliet"},
		{name: "SCRAM-SHA-256-PLUS/own/tls-server-end-point/TLS1.2/P-256", mech: ScramSHA256Plus, opts: with(tls12, true),
			own:      &testClient{hashName: "SHA-256", user: "romeo", password: "pencil", flag: "p=tls-server-end-point", cbData: sha256Sum(tls12.cert)},
			wantUser: "romeo"},
		{name: "SCRAM-SHA-512-PLUS/own/tls-server-end-point/TLS1.3/P-384", mech: ScramSHA512Plus, opts: with(tls13p384, true),
			own:      &testClient{hashName: "SHA-512", user: "romeo", password: "pencil", flag: "p=tls-server-end-point", cbData: sha384Sum(tls13p384.cert)},
			wantUser: "romeo"},
		{name: "SCRAM-SHA-1-PLUS/own/tls-server-end-point/TLS1.2/P-521", mech: ScramSHA1Plus, opts: with(tls12p521, true),
			own:      &testClient{hashName: "SHA-1", user: "romeo", password: "pencil", flag: "p=tls-server-end-point", cbData: sha512Sum(tls12p521.cert)},
			wantUser: "romeo"},
		{name: "SCRAM-SHA-1-PLUS/own/tls-exporter/authzid", mech: ScramSHA1Plus, opts: with(tls13, false),
			own: &testClient{hashName: "SHA-1", user: "juliet", password: "r0m30myr0m30", authzid: "juliet@example.com/a,b=c",
				flag: "p=tls-exporter", cbData: exporter(tls13)},
			wantUser: "juliet", wantAuthzid: "juliet@example.com/a,b=c"},
		{name: "SCRAM-SHA-256/own/y without PLUS on offer", mech: ScramSHA256, opts: with(tls12nu, false),
			own: &testClient{hashName: "SHA-256", user: "romeo", password: "pencil", flag: "y"}, wantUser: "romeo"},
		{name: "SCRAM-SHA-256/own/unicode name and password", mech: ScramSHA256, opts: noTLS,
			own: &testClient{hashName: "SHA-256", user: "ünïcödé", password: "pässwörd"}, wantUser: "ünïcödé"},
		{name: "SCRAM-SHA-256/own/password prepared by the client", mech: ScramSHA256, opts: noTLS,
			own: &testClient{hashName: "SHA-256", user: "nurse", password: "pass\u2003word"}, wantUser: "nurse"},
		{name: "SCRAM-SHA-512/own/no initial response", mech: ScramSHA512, opts: noTLS, noInitial: true,
			own: &testClient{hashName: "SHA-512", user: "juliet", password: "r0m30myr0m30"}, wantUser: "juliet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !slices.Contains(Mechanisms(c.opts), c.mech) {
				t.Fatalf("%s not offered: %v", c.mech, Mechanisms(c.opts))
			}
			s, err := NewServer(c.mech, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if c.noInitial {
				out, done, err := s.Step(context.Background(), nil)
				if err != nil || done || out == nil || len(out) != 0 {
					t.Fatalf("empty initial response: out=%q done=%v err=%v", out, done, err)
				}
			}
			if c.mellium != nil {
				err = runMellium(t, s, *c.mellium, c.melliumOpts...)
			} else {
				_, err = runOwn(t, s, c.own)
			}
			if err != nil {
				t.Fatalf("server: %v", err)
			}
			if strings.HasSuffix(c.mech, "-PLUS") &&
				(len(s.scram.cbData) == 0 || !strings.HasPrefix(s.scram.gs2Header, "p=")) {
				t.Errorf("PLUS exchange without channel binding: header %q", s.scram.gs2Header)
			}
			if s.Username() != c.wantUser || s.Authzid() != c.wantAuthzid {
				t.Errorf("Username, Authzid = %q, %q; want %q, %q", s.Username(), s.Authzid(), c.wantUser, c.wantAuthzid)
			}
			if _, _, err := s.Step(context.Background(), []byte("x")); err == nil {
				t.Error("Step after success did not fail")
			}
		})
	}
}

// TestUnknownUserIndistinguishable checks that an unknown user fails exactly
// like a wrong password: same steps, same failure, a server-first of the same
// shape, and a stable salt across attempts.
func TestUnknownUserIndistinguishable(t *testing.T) {
	lookup := newLookup(t)
	for _, h := range Hashes {
		t.Run(string(h), func(t *testing.T) {
			mech := "SCRAM-" + string(h)
			type result struct {
				steps int
				fail  Failure
				first string
			}
			run := func(user, pass string) result {
				s, err := NewServer(mech, Options{Lookup: lookup})
				if err != nil {
					t.Fatal(err)
				}
				c := &testClient{hashName: string(h), user: user, password: pass}
				out, _, err := s.Step(context.Background(), c.first())
				if err != nil {
					t.Fatalf("client-first: %v", err)
				}
				final, err := c.final(out)
				if err != nil {
					t.Fatal(err)
				}
				_, done, err := s.Step(context.Background(), final)
				if done || err == nil {
					t.Fatal("authentication succeeded")
				}
				return result{steps: 2, fail: *asFailure(t, err), first: string(out)}
			}
			wrong := run("juliet", "wrong")
			unknown := run("nobody", "wrong")
			again := run("nobody", "other")
			// What the client sees is the same; only the server's own
			// Reason tells them apart.
			if wrong.steps != unknown.steps || wrong.fail.Condition != unknown.fail.Condition || wrong.fail.Text != unknown.fail.Text {
				t.Errorf("wrong password: %+v; unknown user: %+v", wrong, unknown)
			}
			if wrong.fail.Reason != ReasonWrongPassword || unknown.fail.Reason != ReasonUnknownUser {
				t.Errorf("reasons %q and %q; want %q and %q", wrong.fail.Reason, unknown.fail.Reason, ReasonWrongPassword, ReasonUnknownUser)
			}
			if wrong.fail.Condition != NotAuthorized {
				t.Errorf("condition %q, want not-authorized", wrong.fail.Condition)
			}
			shape := func(sf string) (salt, iter string) {
				parts := strings.Split(sf, ",")
				return parts[1], parts[2]
			}
			ws, wi := shape(wrong.first)
			us, ui := shape(unknown.first)
			as, _ := shape(again.first)
			if len(ws) != len(us) || wi != ui {
				t.Errorf("server-first differs in shape: %q vs %q", wrong.first, unknown.first)
			}
			if us != as {
				t.Errorf("fake salt not stable: %q then %q", us, as)
			}
			if other, _ := shape(run("somebody", "x").first); other == us {
				t.Error("two unknown users got the same salt")
			}
		})
	}
}

func TestFailures(t *testing.T) {
	tls13 := newTLSEnv(t, tls.VersionTLS13, certP256)
	tls12 := newTLSEnv(t, tls.VersionTLS12, certP256)
	tls13ed := newTLSEnv(t, tls.VersionTLS13, certEd25519)
	lookup := newLookup(t)
	exp, err := tls13.client.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	o13 := Options{Lookup: lookup, TLS: &tls13.server}
	o13cert := Options{Lookup: lookup, TLS: &tls13.server, ServerCert: tls13.cert}
	o12 := Options{Lookup: lookup, TLS: &tls12.server, ServerCert: tls12.cert}
	o13strict := Options{Lookup: lookup, TLS: &tls13.server, ServerCert: tls13.cert, StrictChannelBinding: true}
	juliet := func(h, flag string, cb []byte) *testClient {
		return &testClient{hashName: h, user: "juliet", password: "r0m30myr0m30", flag: flag, cbData: cb}
	}
	cases := []struct {
		name      string
		mech      string
		opts      Options
		client    *testClient
		want      string
		wantSteps int
		reason    string
	}{
		{"wrong password/SHA-1", ScramSHA1, o13, &testClient{hashName: "SHA-1", user: "juliet", password: "x"}, NotAuthorized, 2, ReasonWrongPassword},
		{"wrong password/SHA-256", ScramSHA256, o13, &testClient{hashName: "SHA-256", user: "juliet", password: "x"}, NotAuthorized, 2, ReasonWrongPassword},
		{"wrong password/SHA-512", ScramSHA512, o13, &testClient{hashName: "SHA-512", user: "juliet", password: "x"}, NotAuthorized, 2, ReasonWrongPassword},
		{"unknown user/SHA-256", ScramSHA256, o13, &testClient{hashName: "SHA-256", user: "tybalt", password: "x"}, NotAuthorized, 2, ReasonUnknownUser},
		{"hash without credentials", ScramSHA256, o13, &testClient{hashName: "SHA-256", user: "sha1only", password: "old"}, NotAuthorized, 2, ReasonUnknownUser},
		{"downgrade y where tls-unique is offered", ScramSHA256, o12, juliet("SHA-256", "y", nil), NotAuthorized, 1, ReasonDowngrade},
		{"strict downgrade y on TLS 1.3", ScramSHA256, o13strict, juliet("SHA-256", "y", nil), NotAuthorized, 1, ReasonDowngrade},
		{"y with PLUS mechanism", ScramSHA256Plus, o13, juliet("SHA-256", "y", nil), MalformedRequest, 1, ReasonMalformed},
		{"n with PLUS mechanism", ScramSHA256Plus, o13, juliet("SHA-256", "n", nil), MalformedRequest, 1, ReasonMalformed},
		{"p with non-PLUS mechanism", ScramSHA256, o13, juliet("SHA-256", "p=tls-exporter", exp), MalformedRequest, 1, ReasonMalformed},
		{"binding type unknown", ScramSHA256Plus, o13, juliet("SHA-256", "p=tls-unique", []byte("x")), NotAuthorized, 1, ReasonBindingUnsupported},
		{"end-point not offered without cert", ScramSHA256Plus, o13, juliet("SHA-256", "p=tls-server-end-point", sha256Sum(tls13.cert)), NotAuthorized, 1, ReasonBindingUnsupported},
		{"exporter not offered on TLS 1.2", ScramSHA256Plus, o12, juliet("SHA-256", "p=tls-exporter", []byte("x")), NotAuthorized, 1, ReasonBindingUnsupported},
		{"wrong exporter data", ScramSHA256Plus, o13, juliet("SHA-256", "p=tls-exporter", make([]byte, 32)), NotAuthorized, 2, ReasonBindingMismatch},
		{"wrong end-point data", ScramSHA256Plus, o13cert, juliet("SHA-256", "p=tls-server-end-point", sha512Sum(tls13.cert)), NotAuthorized, 2, ReasonBindingMismatch},
		{"binding data omitted", ScramSHA256Plus, o13, juliet("SHA-256", "p=tls-exporter", nil), NotAuthorized, 2, ReasonBindingMismatch},
		{"c= of another header", ScramSHA256, o13, func() *testClient {
			c := juliet("SHA-256", "n", nil)
			c.cbOverride = str(base64.StdEncoding.EncodeToString([]byte("y,,")))
			return c
		}(), NotAuthorized, 2, ReasonBindingMismatch},
		{"c= not canonical base64", ScramSHA256, o13, func() *testClient {
			c := juliet("SHA-256", "n", nil)
			c.cbOverride = str("biwx")
			return c
		}(), NotAuthorized, 2, ReasonBindingMismatch},
		{"c= bad base64", ScramSHA256, o13, func() *testClient {
			c := juliet("SHA-256", "n", nil)
			c.cbOverride = str("biw")
			return c
		}(), MalformedRequest, 2, ReasonMalformed},
		{"nonce mismatch", ScramSHA256, o13, func() *testClient {
			c := juliet("SHA-256", "n", nil)
			c.nonceOverride = str("fyko+d2lbbFgONRv9qkxdawLXXXX")
			return c
		}(), NotAuthorized, 2, ReasonMalformed},
		{"client nonce only", ScramSHA256, o13, func() *testClient {
			c := juliet("SHA-256", "n", nil)
			c.nonceOverride = str("fyko+d2lbbFgONRv9qkxdawL")
			return c
		}(), NotAuthorized, 2, ReasonMalformed},
		{"proof flipped bit", ScramSHA256, o13, func() *testClient {
			c := juliet("SHA-256", "n", nil)
			c.proofMutate = func(p []byte) { p[0] ^= 1 }
			return c
		}(), NotAuthorized, 2, ReasonWrongPassword},
		{"proof too short", ScramSHA256, o13, func() *testClient {
			c := juliet("SHA-256", "n", nil)
			c.finalMutate = func(s string) string {
				i := strings.LastIndex(s, ",p=")
				return s[:i] + ",p=" + base64.StdEncoding.EncodeToString(make([]byte, 20))
			}
			return c
		}(), MalformedRequest, 2, ReasonMalformed},
		{"wrong hash client", ScramSHA512, o13, &testClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30"}, MalformedRequest, 2, ReasonMalformed},
		{"end-point undefined for Ed25519", ScramSHA256Plus, Options{Lookup: lookup, TLS: &tls13ed.server, ServerCert: tls13ed.cert},
			juliet("SHA-256", "p=tls-server-end-point", sha256Sum(tls13ed.cert)), NotAuthorized, 1, ReasonBindingUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewServer(c.mech, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			steps, err := runOwn(t, s, c.client)
			if err == nil {
				t.Fatal("authentication succeeded")
			}
			if f := asFailure(t, err); f.Condition != c.want || steps != c.wantSteps || f.Reason != c.reason {
				t.Errorf("got %v (reason %s) after %d steps; want %s (%s) after %d", f, f.Reason, steps, c.want, c.reason, c.wantSteps)
			}
			if _, _, err := s.Step(context.Background(), []byte("x")); err == nil {
				t.Error("Step after failure did not fail")
			}
		})
	}
}

func TestMelliumTLSUnique(t *testing.T) {
	// mellium uses tls-unique on TLS 1.2 (RFC 5929 §3).
	e := newTLSEnv(t, tls.VersionTLS12, certP256)
	o := Options{Lookup: newLookup(t), TLS: &e.server, ServerCert: e.cert}
	s, err := NewServer(ScramSHA256Plus, o)
	if err != nil {
		t.Fatal(err)
	}
	err = runMellium(t, s, msasl.ScramSha256Plus, creds("juliet", "r0m30myr0m30", ""),
		msasl.TLSState(e.client), msasl.RemoteMechanisms(Mechanisms(o)...))
	if err != nil {
		t.Fatalf("tls-unique exchange on TLS 1.2: %v", err)
	}
	if cb := s.ChannelBinding(); cb != "p=tls-unique" {
		t.Errorf("ChannelBinding() = %q, want p=tls-unique", cb)
	}
}

func TestTLSUniqueRefusedOnTLS13(t *testing.T) {
	e := newTLSEnv(t, tls.VersionTLS13, certP256)
	o := Options{Lookup: newLookup(t), TLS: &e.server, ServerCert: e.cert}
	s, err := NewServer(ScramSHA256Plus, o)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Step(context.Background(), []byte("p=tls-unique,,n=juliet,r=abcdefgh"))
	if f := asFailure(t, err); f.Condition != NotAuthorized || f.Reason != ReasonBindingUnsupported || f.FailedLogin() {
		t.Errorf("got %+v, want a not-authorized binding failure that is not a failed login", f)
	}
}

func TestPLAINFailures(t *testing.T) {
	tls13 := newTLSEnv(t, tls.VersionTLS13, certP256)
	o := Options{Lookup: newLookup(t), TLS: &tls13.server}
	big := strings.Repeat("a", MaxMessageSize)
	cases := []struct {
		name   string
		opts   Options
		msg    string
		want   string
		reason string
	}{
		{"wrong password", o, "\x00juliet\x00romeo", NotAuthorized, ReasonWrongPassword},
		{"unknown user", o, "\x00tybalt\x00romeo", NotAuthorized, ReasonUnknownUser},
		{"password case matters", o, "\x00juliet\x00R0M30MYR0M30", NotAuthorized, ReasonWrongPassword},
		{"disallowed password", o, "\x00juliet\x00r0m30\x01", NotAuthorized, ReasonWrongPassword},
		{"one NUL", o, "juliet\x00r0m30myr0m30", MalformedRequest, ReasonMalformed},
		{"no NUL", o, "juliet", MalformedRequest, ReasonMalformed},
		{"three NULs", o, "\x00juliet\x00r0m30\x00myr0m30", MalformedRequest, ReasonMalformed},
		{"empty authcid", o, "\x00\x00r0m30myr0m30", MalformedRequest, ReasonMalformed},
		{"empty password", o, "\x00juliet\x00", MalformedRequest, ReasonMalformed},
		{"invalid UTF-8", o, "\x00juliet\xff\x00r0m30myr0m30", MalformedRequest, ReasonMalformed},
		{"oversized", o, "\x00juliet\x00" + big, MalformedRequest, ReasonMalformed},
		{"lookup error", Options{Lookup: failingLookup(errors.New("db down")), TLS: o.TLS}, "\x00juliet\x00x", TemporaryAuthFailure, ReasonStore},
		{"lookup failure passed on", Options{Lookup: failingLookup(&Failure{Condition: AccountDisabled}), TLS: o.TLS}, "\x00juliet\x00x", AccountDisabled, ReasonAccountRefused},
		{"no lookup", Options{TLS: o.TLS}, "\x00juliet\x00x", TemporaryAuthFailure, ReasonStore},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewServer(Plain, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := s.Step(context.Background(), []byte(c.msg))
			if err == nil || done || out != nil {
				t.Fatalf("out=%q done=%v err=%v", out, done, err)
			}
			if f := asFailure(t, err); f.Condition != c.want || f.Reason != c.reason {
				t.Errorf("got %v (reason %s), want %s (%s)", f, f.Reason, c.want, c.reason)
			}
		})
	}
}

// TestLookupFailureNotModified: a *Failure from the Lookup may be a shared
// value; the reason is added to a copy.
func TestLookupFailureNotModified(t *testing.T) {
	shared := &Failure{Condition: AccountDisabled, Text: "disabled"}
	s, err := NewServer(Plain, Options{Lookup: failingLookup(shared), AllowInsecurePlain: true})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Step(context.Background(), []byte("\x00juliet\x00x"))
	if f := asFailure(t, err); f.Condition != AccountDisabled || f.Reason != ReasonAccountRefused || f.FailedLogin() {
		t.Errorf("got %+v", f)
	}
	if shared.Reason != "" {
		t.Errorf("the Lookup's Failure was changed: %+v", shared)
	}
}

func TestSCRAMLookupErrors(t *testing.T) {
	bad := func(mut func(*Credentials)) Lookup {
		l := newLookup(t)
		return func(ctx context.Context, u string, h Hash) (Credentials, error) {
			c, err := l(ctx, u, h)
			mut(&c)
			return c, err
		}
	}
	cases := []struct {
		name   string
		lookup Lookup
		want   string
	}{
		{"error", failingLookup(errors.New("db down")), TemporaryAuthFailure},
		{"failure passed on", failingLookup(&Failure{Condition: CredentialsExpired, Text: "x"}), CredentialsExpired},
		{"nil lookup", nil, TemporaryAuthFailure},
		{"short stored key", bad(func(c *Credentials) { c.StoredKey = c.StoredKey[:4] }), TemporaryAuthFailure},
		{"other hash", bad(func(c *Credentials) { c.Hash = SHA1 }), TemporaryAuthFailure},
		{"no salt", bad(func(c *Credentials) { c.Salt = nil }), TemporaryAuthFailure},
		{"zero iterations", bad(func(c *Credentials) { c.Iterations = 0 }), TemporaryAuthFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewServer(ScramSHA256, Options{Lookup: c.lookup})
			if err != nil {
				t.Fatal(err)
			}
			cl := &testClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30"}
			_, _, err = s.Step(context.Background(), cl.first())
			if f := asFailure(t, err); f.Condition != c.want {
				t.Errorf("got %v, want %s", f, c.want)
			}
		})
	}
}

func TestMalformedClientFirst(t *testing.T) {
	e := newTLSEnv(t, tls.VersionTLS13, certP256)
	cases := []struct {
		name string
		mech string
		msg  string
	}{
		{"empty flag", ScramSHA256, ",,n=juliet,r=abc"},
		{"unknown flag", ScramSHA256, "x,,n=juliet,r=abc"},
		{"lower-case flag missing comma", ScramSHA256, "n"},
		{"flag only", ScramSHA256, "n,"},
		{"gs2-nonstd F flag", ScramSHA256, "F,n,,n=juliet,r=abc"},
		{"empty cb-name", ScramSHA256Plus, "p=,,n=juliet,r=abc"},
		{"bad cb-name char", ScramSHA256Plus, "p=tls_exporter,,n=juliet,r=abc"},
		{"p without comma", ScramSHA256Plus, "p=tls-exporter"},
		{"authzid without a=", ScramSHA256, "n,juliet,n=juliet,r=abc"},
		{"empty authzid", ScramSHA256, "n,a=,n=juliet,r=abc"},
		{"authzid bad escape", ScramSHA256, "n,a=x=2Dy,n=juliet,r=abc"},
		{"authzid unterminated", ScramSHA256, "n,a=juliet"},
		{"reserved m=", ScramSHA256, "n,,m=ext,n=juliet,r=abc"},
		{"missing username", ScramSHA256, "n,,r=abc"},
		{"empty username", ScramSHA256, "n,,n=,r=abc"},
		{"username bare =", ScramSHA256, "n,,n=jul=iet,r=abc"},
		{"username lower-case escape", ScramSHA256, "n,,n=a=2cb,r=abc"},
		{"username escape truncated", ScramSHA256, "n,,n=a=2,r=abc"},
		{"username escape =3E", ScramSHA256, "n,,n=a=3Eb,r=abc"},
		{"username invalid UTF-8", ScramSHA256, "n,,n=\xff,r=abc"},
		{"NUL in username", ScramSHA256, "n,,n=a\x00b,r=abc"},
		{"missing nonce", ScramSHA256, "n,,n=juliet"},
		{"empty nonce", ScramSHA256, "n,,n=juliet,r="},
		{"nonce with space", ScramSHA256, "n,,n=juliet,r=ab c"},
		{"nonce with DEL", ScramSHA256, "n,,n=juliet,r=ab\x7f"},
		{"nonce non-ASCII", ScramSHA256, "n,,n=juliet,r=abé"},
		{"attributes swapped", ScramSHA256, "n,,r=abc,n=juliet"},
		{"m= extension after nonce", ScramSHA256, "n,,n=juliet,r=abc,m=x"},
		{"duplicate nonce", ScramSHA256, "n,,n=juliet,r=abc,r=def"},
		{"extension without value", ScramSHA256, "n,,n=juliet,r=abc,x="},
		{"extension bad name", ScramSHA256, "n,,n=juliet,r=abc,1=x"},
		{"trailing comma", ScramSHA256, "n,,n=juliet,r=abc,"},
		{"client-final sent first", ScramSHA256, "c=biws,r=abc,p=AAAA"},
		{"space before flag", ScramSHA256, " n,,n=juliet,r=abc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewServer(c.mech, Options{Lookup: newLookup(t), TLS: &e.server})
			if err != nil {
				t.Fatal(err)
			}
			_, done, err := s.Step(context.Background(), []byte(c.msg))
			if done || err == nil {
				t.Fatal("accepted")
			}
			if f := asFailure(t, err); f.Condition != MalformedRequest {
				t.Errorf("got %v, want malformed-request", f)
			}
		})
	}
}

func TestMalformedClientFinal(t *testing.T) {
	// With a fixed server nonce, the valid final message is known.
	const nonce = "fyko+d2lbbFgONRv9qkxdawL" + "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"
	proof := base64.StdEncoding.EncodeToString(make([]byte, 32))
	cases := []struct {
		name string
		msg  string
		want string
	}{
		{"empty proof", "c=biws,r=" + nonce + ",p=", MalformedRequest},
		{"missing proof", "c=biws,r=" + nonce, MalformedRequest},
		{"proof not last", "c=biws,p=" + proof + ",r=" + nonce, MalformedRequest},
		{"proof bad base64", "c=biws,r=" + nonce + ",p=!!!!", MalformedRequest},
		{"proof with newline", "c=biws,r=" + nonce + ",p=" + proof[:20] + "\n" + proof[20:], MalformedRequest},
		{"proof without padding", "c=biws,r=" + nonce + ",p=" + strings.TrimRight(proof, "="), MalformedRequest},
		{"proof 31 bytes", "c=biws,r=" + nonce + ",p=" + base64.StdEncoding.EncodeToString(make([]byte, 31)), MalformedRequest},
		{"proof 64 bytes", "c=biws,r=" + nonce + ",p=" + base64.StdEncoding.EncodeToString(make([]byte, 64)), MalformedRequest},
		{"missing channel binding", "r=" + nonce + ",p=" + proof, MalformedRequest},
		{"empty channel binding", "c=,r=" + nonce + ",p=" + proof, MalformedRequest},
		{"channel binding bad base64", "c=b!ws,r=" + nonce + ",p=" + proof, MalformedRequest},
		{"missing nonce", "c=biws,p=" + proof, MalformedRequest},
		{"empty nonce", "c=biws,r=,p=" + proof, MalformedRequest},
		{"nonce with space", "c=biws,r=a b,p=" + proof, MalformedRequest},
		{"reserved m= first", "m=x,c=biws,r=" + nonce + ",p=" + proof, MalformedRequest},
		{"reserved m= extension", "c=biws,r=" + nonce + ",m=x,p=" + proof, MalformedRequest},
		{"duplicate proof", "c=biws,r=" + nonce + ",p=" + proof + ",p=" + proof, MalformedRequest},
		{"bad extension", "c=biws,r=" + nonce + ",=x,p=" + proof, MalformedRequest},
		{"invalid UTF-8", "c=biws,r=" + nonce + ",x=\xff,p=" + proof, MalformedRequest},
		{"NUL", "c=biws,r=" + nonce + ",x=\x00,p=" + proof, MalformedRequest},
		{"upper-case attribute", "C=biws,r=" + nonce + ",p=" + proof, MalformedRequest},
		{"client-first again", "n,,n=juliet,r=fyko+d2lbbFgONRv9qkxdawL", MalformedRequest},
		{"empty", "", MalformedRequest},
		{"oversized", "c=biws,r=" + nonce + ",x=" + strings.Repeat("a", MaxMessageSize) + ",p=" + proof, MalformedRequest},
		// Well-formed but wrong.
		{"unknown extension, wrong proof", "c=biws,r=" + nonce + ",x=y,p=" + proof, NotAuthorized},
		{"wrong proof", "c=biws,r=" + nonce + ",p=" + proof, NotAuthorized},
		{"other gs2 header", "c=eSws,r=" + nonce + ",p=" + proof, NotAuthorized},
		{"nonce prefix", "c=biws,r=" + nonce[:30] + ",p=" + proof, NotAuthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewServer(ScramSHA256, Options{Lookup: newLookup(t)})
			if err != nil {
				t.Fatal(err)
			}
			s.scram.rand = fixedRand(1)
			out, _, err := s.Step(context.Background(), []byte("n,,n=juliet,r=fyko+d2lbbFgONRv9qkxdawL"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(out), "r="+nonce+",") {
				t.Fatalf("server-first %q", out)
			}
			_, done, err := s.Step(context.Background(), []byte(c.msg))
			if done || err == nil {
				t.Fatal("accepted")
			}
			if f := asFailure(t, err); f.Condition != c.want {
				t.Errorf("got %v, want %s", f, c.want)
			}
		})
	}
}

func TestOversizedInitial(t *testing.T) {
	s, err := NewServer(ScramSHA1, Options{Lookup: newLookup(t)})
	if err != nil {
		t.Fatal(err)
	}
	msg := "n,,n=juliet,r=" + strings.Repeat("a", MaxMessageSize)
	_, _, err = s.Step(context.Background(), []byte(msg))
	if f := asFailure(t, err); f.Condition != MalformedRequest {
		t.Errorf("got %v", f)
	}
	// Exactly at the limit is parsed normally.
	s, _ = NewServer(ScramSHA1, Options{Lookup: newLookup(t)})
	msg = msg[:MaxMessageSize]
	if _, _, err := s.Step(context.Background(), []byte(msg)); err != nil {
		t.Errorf("message of MaxMessageSize bytes: %v", err)
	}
}

// TestEmptyResponses: an empty client message ("=" in <auth/> or
// <response/>, RFC 6120 §6.4.2) is malformed for PLAIN (RFC 4616 §2) and
// SCRAM; only an absent initial response (nil) gets the empty challenge.
func TestEmptyResponses(t *testing.T) {
	ctx := context.Background()
	for _, mech := range []string{ScramSHA256, Plain} {
		o := Options{Lookup: newLookup(t), AllowInsecurePlain: true}
		t.Run(mech+"/empty initial response", func(t *testing.T) {
			s, err := NewServer(mech, o)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := s.Step(ctx, []byte{})
			if f := asFailure(t, err); f.Condition != MalformedRequest || f.Reason != ReasonMalformed || out != nil {
				t.Errorf("got challenge %q, failure %+v; want malformed-request", out, f)
			}
		})
		for _, second := range [][]byte{{}, nil} {
			t.Run(fmt.Sprintf("%s/no initial response then %#v", mech, second), func(t *testing.T) {
				s, err := NewServer(mech, o)
				if err != nil {
					t.Fatal(err)
				}
				out, done, err := s.Step(ctx, nil)
				if err != nil || done || out == nil || len(out) != 0 {
					t.Fatalf("no initial response: %q %v %v; want an empty challenge", out, done, err)
				}
				_, _, err = s.Step(ctx, second)
				if f := asFailure(t, err); f.Condition != MalformedRequest {
					t.Errorf("empty response: %v", f)
				}
			})
		}
	}
}

// TestYFlag: what the gs2 flag "y" gets on each kind of connection, with
// and without StrictChannelBinding.
func TestYFlag(t *testing.T) {
	tls13 := newTLSEnv(t, tls.VersionTLS13, certP256)
	tls12 := newTLSEnv(t, tls.VersionTLS12, certP256)
	tls12ed := newTLSEnv(t, tls.VersionTLS12, certEd25519)
	lookup := newLookup(t)
	cases := []struct {
		name   string
		opts   Options
		refuse bool // refused as a downgrade
	}{
		{"TLS 1.3: exporter and end-point only", Options{TLS: &tls13.server, ServerCert: tls13.cert}, false},
		{"TLS 1.3 strict", Options{TLS: &tls13.server, ServerCert: tls13.cert, StrictChannelBinding: true}, true},
		{"TLS 1.2: tls-unique offered", Options{TLS: &tls12.server, ServerCert: tls12.cert}, true},
		{"TLS 1.2 strict", Options{TLS: &tls12.server, ServerCert: tls12.cert, StrictChannelBinding: true}, true},
		{"TLS 1.2 Ed25519: tls-unique only", Options{TLS: &tls12ed.server, ServerCert: tls12ed.cert}, true},
		{"no TLS: nothing offered", Options{AllowInsecurePlain: true}, false},
		{"no TLS strict: nothing offered", Options{AllowInsecurePlain: true, StrictChannelBinding: true}, false},
	}
	for _, c := range cases {
		for _, h := range []string{"SHA-1", "SHA-256", "SHA-512"} {
			t.Run(c.name+"/"+h, func(t *testing.T) {
				c.opts.Lookup = lookup
				s, err := NewServer("SCRAM-"+h, c.opts)
				if err != nil {
					t.Fatal(err)
				}
				_, err = runOwn(t, s, &testClient{hashName: h, user: "juliet", password: "r0m30myr0m30", flag: "y"})
				if !c.refuse {
					if err != nil {
						t.Fatalf("y refused: %v", err)
					}
					if cb := s.ChannelBinding(); cb != "y" {
						t.Errorf("ChannelBinding() = %q, want y", cb)
					}
					return
				}
				f := asFailure(t, err)
				if f.Condition != NotAuthorized || f.Reason != ReasonDowngrade || f.FailedLogin() {
					t.Errorf("got %+v (reason %s); want not-authorized for a downgrade, not counted as a failed login", f, f.Reason)
				}
			})
		}
	}
	// With "y" accepted, the flag is still bound into the exchange: a
	// client-final that claims "n" instead fails.
	s, err := NewServer(ScramSHA256, Options{Lookup: lookup, TLS: &tls13.server})
	if err != nil {
		t.Fatal(err)
	}
	c := &testClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30", flag: "y"}
	cb := base64.StdEncoding.EncodeToString([]byte("n,,"))
	c.cbOverride = &cb
	if _, err := runOwn(t, s, c); err == nil || asFailure(t, err).Reason != ReasonBindingMismatch {
		t.Errorf("y in client-first, n in client-final: %v; want a binding mismatch", err)
	}
}

func TestMechanisms(t *testing.T) {
	tls13 := newTLSEnv(t, tls.VersionTLS13, certP256)
	tls12 := newTLSEnv(t, tls.VersionTLS12, certP256)
	tls12ed := newTLSEnv(t, tls.VersionTLS12, certEd25519)
	tls13ed := newTLSEnv(t, tls.VersionTLS13, certEd25519)
	plus := []string{ScramSHA512Plus, ScramSHA256Plus, ScramSHA1Plus}
	scram := []string{ScramSHA512, ScramSHA256, ScramSHA1}
	notDone := tls13.server
	notDone.HandshakeComplete = false
	noUnique := tls12.server
	noUnique.TLSUnique = nil
	cases := []struct {
		name      string
		opts      Options
		wantMechs []string
		wantCB    []string
	}{
		{"plaintext", Options{}, scram, nil},
		{"plaintext, insecure PLAIN", Options{AllowInsecurePlain: true}, append(scram, Plain), nil},
		{"plaintext, cert ignored", Options{ServerCert: tls13.cert}, scram, nil},
		{"TLS 1.3", Options{TLS: &tls13.server}, slices.Concat(plus, scram, []string{Plain}), []string{TLSExporter}},
		{"TLS 1.3 with cert", Options{TLS: &tls13.server, ServerCert: tls13.cert}, slices.Concat(plus, scram, []string{Plain}), []string{TLSExporter, TLSServerEndPoint}},
		{"TLS 1.2", Options{TLS: &tls12.server}, slices.Concat(plus, scram, []string{Plain}), []string{TLSUnique}},
		{"TLS 1.2 without tls-unique", Options{TLS: &noUnique}, append(scram, Plain), nil},
		{"TLS 1.2 with cert", Options{TLS: &tls12.server, ServerCert: tls12.cert}, slices.Concat(plus, scram, []string{Plain}), []string{TLSServerEndPoint, TLSUnique}},
		{"TLS 1.2 with Ed25519 cert", Options{TLS: &tls12ed.server, ServerCert: tls12ed.cert}, slices.Concat(plus, scram, []string{Plain}), []string{TLSUnique}},
		{"TLS 1.2 with Ed25519 cert, no tls-unique", Options{TLS: &noUnique, ServerCert: tls12ed.cert}, append(scram, Plain), nil},
		{"TLS 1.3 with Ed25519 cert", Options{TLS: &tls13ed.server, ServerCert: tls13ed.cert}, slices.Concat(plus, scram, []string{Plain}), []string{TLSExporter}},
		{"TLS 1.2 with garbage cert", Options{TLS: &noUnique, ServerCert: []byte("junk")}, append(scram, Plain), nil},
		{"handshake incomplete", Options{TLS: &notDone}, append(scram, Plain), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Mechanisms(c.opts); !slices.Equal(got, c.wantMechs) {
				t.Errorf("Mechanisms = %v, want %v", got, c.wantMechs)
			}
			if got := ChannelBindingTypes(c.opts); !slices.Equal(got, c.wantCB) {
				t.Errorf("ChannelBindingTypes = %v, want %v", got, c.wantCB)
			}
			for _, m := range c.wantMechs {
				if _, err := NewServer(m, c.opts); err != nil {
					t.Errorf("NewServer(%s): %v", m, err)
				}
			}
		})
	}
}

func TestNewServerRejects(t *testing.T) {
	tls12 := newTLSEnv(t, tls.VersionTLS12, certP256)
	noUnique := tls12.server
	noUnique.TLSUnique = nil
	cases := []struct {
		name   string
		mech   string
		opts   Options
		want   string
		reason string
	}{
		{"unknown", "DIGEST-MD5", Options{}, InvalidMechanism, ReasonUnknownMechanism},
		{"empty", "", Options{}, InvalidMechanism, ReasonUnknownMechanism},
		{"lower case", "scram-sha-256", Options{}, InvalidMechanism, ReasonUnknownMechanism},
		{"unknown hash", "SCRAM-SHA-384", Options{}, InvalidMechanism, ReasonUnknownMechanism},
		{"double PLUS", "SCRAM-SHA-256-PLUS-PLUS", Options{TLS: &tls12.server, ServerCert: tls12.cert}, InvalidMechanism, ReasonUnknownMechanism},
		{"hash not offered", ScramSHA1, Options{Hashes: []Hash{SHA256}}, InvalidMechanism, ReasonNotOffered},
		{"PLAIN without TLS", Plain, Options{}, EncryptionRequired, ReasonEncryptionRequired},
		{"PLUS without TLS", ScramSHA256Plus, Options{}, EncryptionRequired, ReasonEncryptionRequired},
		{"PLUS without binding", ScramSHA256Plus, Options{TLS: &noUnique}, InvalidMechanism, ReasonNotOffered},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewServer(c.mech, c.opts)
			if s != nil || err == nil {
				t.Fatal("accepted")
			}
			if f := asFailure(t, err); f.Condition != c.want || f.Reason != c.reason || f.FailedLogin() {
				t.Errorf("got %v (reason %s), want %s (%s), not a failed login", f, f.Reason, c.want, c.reason)
			}
		})
	}
}

func TestExportKeyingMaterialGuard(t *testing.T) {
	// A hand-made ConnectionState has no exporter; it must not panic.
	cs := &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}
	o := Options{Lookup: newLookup(t), TLS: cs}
	s, err := NewServer(ScramSHA256Plus, o)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Step(context.Background(), []byte("p=tls-exporter,,n=juliet,r=abc"))
	if f := asFailure(t, err); f.Condition != NotAuthorized {
		t.Errorf("got %v", f)
	}
}

func TestPreparePassword(t *testing.T) {
	cases := []struct{ in, want string }{
		{"pencil", "pencil"},
		{"pass\u00a0word", "pass word"},
		{"Pass Word", "Pass Word"},
		{"e\u0301", "\u00e9"},
		{"", ""},
		{"bad\x07", ""},
	}
	for _, c := range cases {
		got, err := PreparePassword(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("PreparePassword(%q) = %q, want error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("PreparePassword(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	c, err := NewCredentials(SHA256, "pass\u00a0word", 0)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := DeriveCredentials(SHA256, "pass word", c.Salt, DefaultIterations)
	if len(c.Salt) != SaltLen || c.Iterations != DefaultIterations || string(c.StoredKey) != string(d.StoredKey) {
		t.Errorf("NewCredentials = %+v", c)
	}
}

func TestFailureError(t *testing.T) {
	if got := (&Failure{Condition: NotAuthorized}).Error(); got != "sasl: not-authorized" {
		t.Error(got)
	}
	if got := (&Failure{Condition: NotAuthorized, Text: "x"}).Error(); got != "sasl: not-authorized: x" {
		t.Error(got)
	}
}

func TestEndPointHash(t *testing.T) {
	cases := []struct {
		kind string
		want crypto.Hash
		ok   bool
	}{
		{certP256, crypto.SHA256, true},
		{certP384, crypto.SHA384, true},
		{certP521, crypto.SHA512, true},
		{certEd25519, 0, false},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			_, der := genCert(t, c.kind)
			for range 2 { // second time from the cache
				if h, ok := endPointHash(der); h != c.want || ok != c.ok {
					t.Errorf("endPointHash = %v, %v; want %v, %v", h, ok, c.want, c.ok)
				}
			}
		})
	}
	// SHA-1 signatures are upgraded to SHA-256 (RFC 5929 §4.1).
	t.Run("ecdsa-sha1", func(t *testing.T) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), SignatureAlgorithm: x509.ECDSAWithSHA1,
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Skipf("cannot make a SHA-1 certificate here: %v", err)
		}
		if h, ok := endPointHash(der); h != crypto.SHA256 || !ok {
			t.Errorf("endPointHash = %v, %v; want SHA-256", h, ok)
		}
	})
}
