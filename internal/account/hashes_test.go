package account_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	msasl "mellium.im/sasl"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/storage/storagetest"
	"github.com/parleyim/parley/internal/xmpptest"
)

// hashesOf lists the hashes j has credentials for.
func hashesOf(t *testing.T, s *account.Store, j jid.JID) []sasl.Hash {
	t.Helper()
	cs, err := s.AllCredentials(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	var hs []sasl.Hash
	for _, c := range cs {
		hs = append(hs, c.Hash)
	}
	return hs
}

// TestUseHashes: a Store derives keys for its hashes only; Credentials
// tells a missing account from a missing hash; setting a password drops
// the keys of hashes no longer configured (they hold the old password).
func TestUseHashes(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.Open(t, driver)
			all := account.NewStore(db, 4096)
			only256 := account.NewStore(db, 4096).UseHashes(sasl.SHA256)
			j := jid.MustParse("juliet@example.org")
			if err := only256.Create(ctx, j, "pw"); err != nil {
				t.Fatal(err)
			}
			if got := hashesOf(t, all, j); !slices.Equal(got, []sasl.Hash{sasl.SHA256}) {
				t.Fatalf("created with %v, want SHA-256 only", got)
			}
			if _, err := all.Credentials(ctx, j, sasl.SHA1); !errors.Is(err, account.ErrNoHash) {
				t.Errorf("missing hash: %v, want ErrNoHash", err)
			}
			if _, err := all.Credentials(ctx, jid.MustParse("nobody@example.org"), sasl.SHA1); !errors.Is(err, account.ErrNotFound) {
				t.Errorf("missing account: %v, want ErrNotFound", err)
			}
			if err := all.SetPassword(ctx, j, "second"); err != nil {
				t.Fatal(err)
			}
			if got := hashesOf(t, all, j); len(got) != 3 {
				t.Fatalf("after SetPassword with all hashes: %v", got)
			}
			if err := only256.SetPassword(ctx, j, "third"); err != nil {
				t.Fatal(err)
			}
			if got := hashesOf(t, all, j); !slices.Equal(got, []sasl.Hash{sasl.SHA256}) {
				t.Fatalf("after SetPassword with SHA-256 only: %v (keys of the old password kept)", got)
			}
			if hs := account.HashesNamed([]string{"SHA-1", "SHA-256"}); !slices.Equal(hs, []sasl.Hash{sasl.SHA256, sasl.SHA1}) {
				t.Errorf("HashesNamed = %v", hs)
			}
		})
	}
}

func saslAuth(mech, payload string) string {
	return "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + mech + "'>" + payload + "</auth>"
}

// clientFirstJuliet is a SCRAM client-first message for user, base64.
const clientFirstJuliet = "biwsbj1qdWxpZXQscj1meXFvNDFoN2N3YWxpZXQ=" // n,,n=juliet,r=fyqo41h7cwaliet

// TestScramHashesEndToEnd runs servers with auth.scram_hashes set over
// real sockets: only the configured SCRAM mechanisms are offered,
// registration and user creation store keys for them only, an unoffered
// mechanism fails with invalid-mechanism, and an account without keys for
// an offered hash gets a clear invalid-mechanism and can go on with
// another mechanism on the same stream.
func TestScramHashesEndToEnd(t *testing.T) {
	t.Run("SHA-256 only", func(t *testing.T) {
		srv := xmpptest.Start(t, func(c *config.Config) {
			c.Auth.ScramHashes = []string{"SHA-256"}
			c.AllowRegistration = true
		})
		raw := srv.Raw(t)
		raw.Open("localhost")
		feats := raw.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
		for _, m := range []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256<", "PLAIN"} {
			if !strings.Contains(feats, "<mechanism>"+strings.TrimSuffix(m, "<")) {
				t.Errorf("features lack %s: %s", m, feats)
			}
		}
		for _, m := range []string{"SCRAM-SHA-1", "SCRAM-SHA-512"} {
			if strings.Contains(feats, m) {
				t.Errorf("features offer %s: %s", m, feats)
			}
		}
		// In-band registration (XEP-0077) stores SHA-256 keys only.
		raw.Write("<iq type='set' id='reg1'><query xmlns='jabber:iq:register'><username>romeo</username><password>r0m30myr0m30</password></query></iq>")
		if out, err := raw.ReadUntilAny([]string{"</iq>", "type=\"result\"/>", "type='result'/>"}, 5*time.Second); err != nil || !strings.Contains(out, "result") {
			t.Fatalf("registration: %q, %v", out, err)
		}
		romeo := jid.MustParse("romeo@localhost")
		if got := hashesOf(t, srv.Accounts(), romeo); !slices.Equal(got, []sasl.Hash{sasl.SHA256}) {
			t.Fatalf("registered with keys for %v, want SHA-256 only", got)
		}
		raw.Write(saslAuth("SCRAM-SHA-1", clientFirstJuliet))
		if out := raw.ReadUntil("</failure>", 5*time.Second); !strings.Contains(out, "<invalid-mechanism/>") {
			t.Fatalf("SCRAM-SHA-1: %s", out)
		}
		if out := raw.Plain("", "romeo", "r0m30myr0m30"); !strings.Contains(out, "success") {
			t.Fatalf("PLAIN after the refused mechanism: %s", out)
		}
		srv.AddUser(t, "juliet@localhost", "pw")
		if got := hashesOf(t, srv.Accounts(), jid.MustParse("juliet@localhost")); !slices.Equal(got, []sasl.Hash{sasl.SHA256}) {
			t.Fatalf("user created with keys for %v", got)
		}
		srv.Dial(t, "juliet@localhost", "pw", xmpptest.DialOptions{})
		if _, err := srv.DialErr(t, "juliet@localhost", "pw", xmpptest.DialOptions{Mechanisms: []msasl.Mechanism{msasl.ScramSha1}}); err == nil {
			t.Error("SCRAM-SHA-1 login succeeded though not offered")
		}
	})
	t.Run("account with fewer hashes than offered", func(t *testing.T) {
		srv := xmpptest.Start(t)
		c, err := sasl.NewCredentials(sasl.SHA256, "pw", 4096)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Accounts().CreateWithCredentials(context.Background(), jid.MustParse("juliet@localhost"), []sasl.Credentials{c}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, mech, want string
		}{
			{"SHA-512 missing", "SCRAM-SHA-512", "<invalid-mechanism/><text xml:lang='en'>this account has no SCRAM-SHA-512 credentials; use another mechanism</text>"},
			{"SHA-1 missing", "SCRAM-SHA-1", "<invalid-mechanism/><text xml:lang='en'>this account has no SCRAM-SHA-1 credentials; use another mechanism</text>"},
			{"unknown account, as ever", "SCRAM-SHA-512", "<challenge"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				raw := srv.Raw(t)
				raw.Open("localhost")
				raw.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
				first := clientFirstJuliet
				if strings.HasPrefix(tc.name, "unknown") {
					first = "biwsbj1ub2JvZHkscj1meXFvNDFoN2N3YWxpZXQ=" // n,,n=nobody,r=...
				}
				raw.Write(saslAuth(tc.mech, first))
				out, err := raw.ReadUntilAny([]string{"</failure>", "</challenge>"}, 5*time.Second)
				if err != nil || !strings.Contains(out, tc.want) {
					t.Fatalf("got %q, %v; want %s", out, err, tc.want)
				}
				if strings.HasPrefix(tc.name, "unknown") {
					return
				}
				// Not a failed login: the client goes on with another
				// mechanism on the same stream.
				if out := raw.Plain("", "juliet", "pw"); !strings.Contains(out, "success") {
					t.Fatalf("PLAIN afterwards: %s", out)
				}
			})
		}
		srv.Dial(t, "juliet@localhost", "pw", xmpptest.DialOptions{}) // SCRAM-SHA-256
		_, err = srv.DialErr(t, "juliet@localhost", "pw", xmpptest.DialOptions{Mechanisms: []msasl.Mechanism{msasl.ScramSha1}})
		if err == nil || !strings.Contains(err.Error(), "no SCRAM-SHA-1 credentials") {
			t.Errorf("mellium SCRAM-SHA-1 for a SHA-256 account: %v, want invalid-mechanism", err)
		}
	})
}
