package portable

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	msasl "mellium.im/sasl"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/server"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/xmpptest"
)

var ejabberdExport = filepath.Join("testdata", "ejabberd-23.01", "export.xml")

// TestImportEjabberd imports what ejabberd 23.01's export_piefxis wrote
// (see testdata/ejabberd-23.01/README.md) into a running server and logs
// the users in: passwords and SCRAM-SHA-1 credentials work, offline
// messages arrive with their original time, rosters, vCards, private XML
// and a pending subscription request are there.
func TestImportEjabberd(t *testing.T) {
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.Domains = []string{"plain.example", "scram.example"}
	})
	ctx := context.Background()
	db, err := storage.Open(ctx, srv.Config)
	must(t, err)
	defer db.Close()
	rep, err := Import(ctx, NewStores(db, 4096, server.UserData(db)...), []string{ejabberdExport}, ImportOptions{Domains: srv.Config.Domains})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Imported) != 5 || len(rep.Skipped) != 0 {
		t.Fatalf("imported %v, skipped %v", rep.Imported, rep.Skipped)
	}

	t.Run("SCRAM-SHA-1 credentials from ejabberd", func(t *testing.T) {
		c, err := db.SQL().QueryContext(ctx, "SELECT hash FROM scram_credentials WHERE username = 'alice'")
		must(t, err)
		var hashes []string
		for c.Next() {
			var h string
			c.Scan(&h)
			hashes = append(hashes, h)
		}
		c.Close()
		if strings.Join(hashes, ",") != string(sasl.SHA1) {
			t.Errorf("alice has credentials for %v, want SHA-1 only", hashes)
		}
		alice := srv.Dial(t, "alice@scram.example", "alice-pw", xmpptest.DialOptions{Mechanisms: []msasl.Mechanism{msasl.ScramSha1}})
		alice.Send(t, "<presence/>")
		alice.Expect(t, 10*time.Second, "bob's offline message", func(s xmpptest.Stanza) bool {
			return s.XMLName.Local == "message" && strings.Contains(s.Inner, "Hi Alice &lt;3 &amp; bye")
		})
		if _, err := srv.DialErr(t, "alice@scram.example", "wrong", xmpptest.DialOptions{Mechanisms: []msasl.Mechanism{msasl.ScramSha1}}); err == nil {
			t.Error("wrong password accepted")
		}
		// ejabberd kept no SHA-256 credentials: such a client cannot log in.
		if _, err := srv.DialErr(t, "alice@scram.example", "alice-pw", xmpptest.DialOptions{}); err == nil {
			t.Error("SCRAM-SHA-256 login succeeded without SHA-256 credentials")
		}
	})
	t.Run("plaintext password hashed on import", func(t *testing.T) {
		juliet := srv.Dial(t, "juliet@plain.example", "Rom3o&Jul<iet>", xmpptest.DialOptions{})
		roster := juliet.IQ(t, "<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
		for _, want := range []string{"romeo@plain.example", "Friends", "Lovers", "alice@scram.example", `subscription="to"`} {
			if !strings.Contains(roster.Inner, want) {
				t.Errorf("roster lacks %s: %s", want, roster.Inner)
			}
		}
		vcard := juliet.IQ(t, "<iq type='get' id='v1'><vCard xmlns='vcard-temp'/></iq>")
		if !strings.Contains(vcard.Inner, "Juliet Capulet") || !strings.Contains(vcard.Inner, "Jules") {
			t.Errorf("vCard: %s", vcard.Inner)
		}
		priv := juliet.IQ(t, "<iq type='get' id='p1'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>")
		if !strings.Contains(priv.Inner, "balcony@conference.plain.example") {
			t.Errorf("bookmarks: %s", priv.Inner)
		}
		juliet.Send(t, "<presence/>")
		for _, body := range []string{"Parting is such sweet sorrow", "Your lady mother"} {
			m := juliet.Expect(t, 10*time.Second, "offline message", func(s xmpptest.Stanza) bool {
				return s.XMLName.Local == "message" && strings.Contains(s.Inner, body)
			})
			if !strings.Contains(m.Inner, "2026-11-25T14:00:5") {
				t.Errorf("offline message without its original time: %s", m.Inner)
			}
		}
	})
	t.Run("pending subscription request", func(t *testing.T) {
		nurse := srv.Dial(t, "nurse@plain.example", "nürse pässwörd", xmpptest.DialOptions{})
		nurse.Send(t, "<presence/>")
		nurse.Expect(t, 10*time.Second, "romeo's subscription request", func(s xmpptest.Stanza) bool {
			return s.XMLName.Local == "presence" && s.Attr("type") == "subscribe" && strings.HasPrefix(s.Attr("from"), "romeo@plain.example")
		})
	})
	if ok, _ := srv.Accounts().Exists(ctx, jid.MustParse("bob@scram.example")); !ok {
		t.Error("bob was not imported")
	}
}
