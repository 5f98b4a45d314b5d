package sasl

import (
	"context"
	"crypto/tls"
	"slices"
	"strings"
	"testing"
)

// TestOfferedHashes: Options.Hashes limits the SCRAM mechanisms offered
// and accepted (with their -PLUS variants); PLAIN is unaffected.
func TestOfferedHashes(t *testing.T) {
	tls13 := newTLSEnv(t, tls.VersionTLS13, certP256)
	cases := []struct {
		name    string
		opts    Options
		want    []string
		refused []string
	}{
		{"SHA-256 only, plaintext", Options{Hashes: []Hash{SHA256}}, []string{ScramSHA256},
			[]string{ScramSHA1, ScramSHA512}},
		{"SHA-256 and SHA-1 on TLS 1.3", Options{TLS: &tls13.server, Hashes: []Hash{SHA1, SHA256}},
			[]string{ScramSHA256Plus, ScramSHA1Plus, ScramSHA256, ScramSHA1, Plain},
			[]string{ScramSHA512, ScramSHA512Plus}},
		{"nil offers all", Options{}, []string{ScramSHA512, ScramSHA256, ScramSHA1}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Mechanisms(c.opts); !slices.Equal(got, c.want) {
				t.Errorf("Mechanisms = %v, want %v", got, c.want)
			}
			for _, m := range c.want {
				if _, err := NewServer(m, c.opts); err != nil {
					t.Errorf("NewServer(%s): %v", m, err)
				}
			}
			for _, m := range c.refused {
				s, err := NewServer(m, c.opts)
				if s != nil || err == nil {
					t.Fatalf("%s accepted", m)
				}
				if f := asFailure(t, err); f.Condition != InvalidMechanism || !strings.Contains(f.Text, "not offered") {
					t.Errorf("%s: %v, want invalid-mechanism", m, f)
				}
			}
		})
	}
}

// onlyHashes is a Lookup over testAccounts that has credentials for hs
// only, and reports ErrNoCredentials for the others of an existing user.
func onlyHashes(tb testing.TB, hs ...Hash) Lookup {
	l := newLookup(tb)
	return func(ctx context.Context, u string, h Hash) (Credentials, error) {
		c, err := l(ctx, u, h)
		if err == nil && !slices.Contains(hs, h) {
			return Credentials{}, ErrNoCredentials
		}
		return c, err
	}
}

// TestNoCredentialsForHash: an account without keys for the chosen SCRAM
// hash fails at once with invalid-mechanism, and can still log in with
// its other hash and with PLAIN (which tries every hash).
func TestNoCredentialsForHash(t *testing.T) {
	tls13 := newTLSEnv(t, tls.VersionTLS13, certP256)
	o := Options{Lookup: onlyHashes(t, SHA256), TLS: &tls13.server}
	for _, mech := range []string{ScramSHA1, ScramSHA512} {
		s, err := NewServer(mech, o)
		if err != nil {
			t.Fatal(err)
		}
		cl := &testClient{hashName: strings.TrimPrefix(mech, "SCRAM-"), user: "juliet", password: "r0m30myr0m30"}
		out, done, err := s.Step(context.Background(), cl.first())
		if out != nil || done {
			t.Fatalf("%s: out=%q done=%v", mech, out, done)
		}
		if f := asFailure(t, err); f.Condition != InvalidMechanism || !strings.Contains(f.Text, mech) {
			t.Errorf("%s: %v, want invalid-mechanism naming it", mech, f)
		}
	}
	s, _ := NewServer(ScramSHA256, o)
	if _, err := runOwn(t, s, &testClient{hashName: "SHA-256", user: "juliet", password: "r0m30myr0m30"}); err != nil {
		t.Fatalf("SCRAM-SHA-256: %v", err)
	}
	for _, only := range []Hash{SHA1, SHA256, SHA512} {
		for _, c := range []struct {
			password string
			ok       bool
		}{{"r0m30myr0m30", true}, {"wrong", false}} {
			s, _ := NewServer(Plain, Options{Lookup: onlyHashes(t, only), TLS: &tls13.server})
			_, done, err := s.Step(context.Background(), []byte("\x00juliet\x00"+c.password))
			if c.ok && (err != nil || !done) {
				t.Errorf("PLAIN with only %s keys: %v", only, err)
			}
			if !c.ok && (err == nil || asFailure(t, err).Condition != NotAuthorized) {
				t.Errorf("PLAIN, wrong password, only %s keys: %v", only, err)
			}
		}
	}
}

func TestParseHashes(t *testing.T) {
	cases := []struct {
		in   []string
		want []Hash
		ok   bool
	}{
		{[]string{"SHA-256"}, []Hash{SHA256}, true},
		{[]string{"SHA-1", "SHA-512", "SHA-256"}, []Hash{SHA512, SHA256, SHA1}, true},
		{[]string{"SHA-256", "SHA-256"}, []Hash{SHA256}, true},
		{[]string{"sha-256"}, nil, false},
		{[]string{"SHA-384"}, nil, false},
		{nil, []Hash{}, true},
	}
	for _, c := range cases {
		got, err := ParseHashes(c.in)
		if (err == nil) != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("ParseHashes(%q) = %v, %v", c.in, got, err)
		}
	}
}
