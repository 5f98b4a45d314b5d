package portable

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/features/pubsub"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/server"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

const testIterations = 64

// Record kinds of the stored features, which populate fills directly.
const (
	kindVCard   = "vcard"
	kindPrivate = "private"
	kindBlock   = "blocklist"
	kindLast    = "last"
	kindOffline = "offline"
)

func stores(t *testing.T, driver string) Stores {
	t.Helper()
	db := storagetest.Open(t, driver)
	return NewStores(db, testIterations, server.UserData(db)...)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// populate gives example.org two accounts with one of everything.
func populate(t *testing.T, st Stores) {
	t.Helper()
	ctx := context.Background()
	alice, bob := jid.MustParse("alice@example.org"), jid.MustParse("bob@example.org")
	must(t, st.Accounts.Create(ctx, alice, "älice pw"))
	must(t, st.Accounts.Create(ctx, bob, "bob"))
	must(t, roster.NewStore(st.DB).Update(ctx, func(tx *roster.Tx) error {
		for _, it := range []*roster.Item{
			{JID: bob, Name: "Bob <the builder>", Groups: []string{"Friends", "Wörk"}, State: roster.State{Sub: roster.SubBoth}},
			{JID: jid.MustParse("carol@remote.example"), State: roster.State{Sub: roster.SubNone, PendingOut: true}},
			{JID: jid.MustParse("dave@remote.example"), State: roster.State{Sub: roster.SubFrom, Approved: true}},
		} {
			if err := tx.PutItem(alice, it); err != nil {
				return err
			}
		}
		req := stanza.New(stanza.NSClient, "presence").SetAttr("type", "subscribe").SetAttr("from", "eve@remote.example").SetAttr("to", "alice@example.org")
		if err := tx.PutPending(alice, jid.MustParse("eve@remote.example"), storage.EncodeElements(req), time.Now()); err != nil {
			return err
		}
		_, err := tx.Bump(alice)
		return err
	}))
	vcard := stanza.New("vcard-temp", "vCard").Append(stanza.New("vcard-temp", "FN").AppendText("Alice & Co"))
	must(t, st.DB.Records(kindVCard).Put(ctx, alice, []storage.Record{{Data: storage.EncodeElements(vcard)}}, 0))
	bm := stanza.New("storage:bookmarks", "storage").Append(stanza.New("storage:bookmarks", "conference").SetAttr("jid", "room@muc.example.org"))
	prefs := stanza.New("exodus:prefs", "prefs").AppendText("x")
	must(t, st.DB.Records(kindPrivate).Put(ctx, alice, []storage.Record{
		{Name: "{storage:bookmarks}storage", Data: storage.EncodeElements(bm)},
		{Name: "{exodus:prefs}prefs", Data: storage.EncodeElements(prefs)},
	}, 0))
	must(t, st.DB.Records(kindBlock).Put(ctx, alice, []storage.Record{{Name: "spam@remote.example"}}, 0))
	must(t, st.DB.Records(kindLast).Put(ctx, bob, []storage.Record{{Data: []byte("gone fishing"), Updated: time.UnixMilli(1700000000123)}}, 0))
	pep := pubsub.NewStore(st.DB)
	must(t, pep.CreateNode(ctx, pubsub.StoredNode{Service: "alice@example.org", Node: "urn:xmpp:avatar:metadata", Creator: "alice@example.org",
		Config: pubsub.NodeConfig{AccessModel: "whitelist", PublishModel: "publishers", MaxItems: 5, PersistItems: true, DeliverPayloads: true,
			DeliverNotify: true, SendLastPublished: "on_sub_and_presence", NotificationType: "headline"}}, 0))
	must(t, pep.SetAffiliation(ctx, "alice@example.org", "urn:xmpp:avatar:metadata", "bob@example.org", pubsub.AffMember))
	for _, id := range []string{"old", "new"} {
		must(t, pep.Publish(ctx, "alice@example.org", "urn:xmpp:avatar:metadata", pubsub.Item{ID: id, Publisher: "alice@example.org/r",
			Payload: []byte("<metadata xmlns='urn:xmpp:avatar:metadata'><info id='" + id + "' bytes='1' type='image/png'/></metadata>")}, 5))
	}
	populatePush(t, st, alice)
	for i, body := range []string{"first", "second <b>&</b>"} {
		m := stanza.New(stanza.NSClient, "message").SetAttr("from", "carol@remote.example/x").SetAttr("to", "alice@example.org").SetAttr("type", "chat").
			Append(stanza.New(stanza.NSClient, "body").AppendText(body))
		must(t, st.DB.Queue(kindOffline).Push(ctx, alice, storage.EncodeElements(m), time.UnixMilli(int64(1700000001000+i)), 0))
	}
}

// populatePush gives alice an XEP-0357 registration (package push) and
// two devices registered with the app server (package pushapp), one
// disabled.
func populatePush(t *testing.T, st Stores, alice jid.JID) {
	t.Helper()
	ctx := context.Background()
	enable := `<enable xmlns="urn:xmpp:push:0" jid="push.example.org" node="n1"><x xmlns="jabber:x:data" type="submit">` +
		`<field var="FORM_TYPE"><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
		`<field var="secret"><value>s3cr3t</value></field></x></enable>`
	must(t, st.DB.Records("push").Put(ctx, alice, []storage.Record{{Name: "push.example.org n1", Data: []byte(enable)}}, 0))
	hash := bytes.Repeat([]byte{7}, 32)
	must(t, st.DB.PushDevices().Add(ctx, storage.PushDevice{Node: "n1", Owner: alice, Provider: "apns", Token: "a1b2",
		Topic: "org.example.chat", Sandbox: true, SecretHash: hash, Created: time.UnixMilli(1700000002000)}, 0))
	must(t, st.DB.PushDevices().Add(ctx, storage.PushDevice{Node: "n2", Owner: alice, Provider: "fcm", Token: "f1",
		SecretHash: hash, Created: time.UnixMilli(1700000003000), Disabled: time.UnixMilli(1700000004000)}, 0))
}

func export(t *testing.T, st Stores, domains ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := Export(context.Background(), st, &b, domains); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	must(t, os.MkdirAll(filepath.Dir(p), 0o700))
	must(t, os.WriteFile(p, data, 0o600))
	return p
}

// TestRoundTrip exports from each engine, imports into each engine, and
// exports again: the two documents are identical, so nothing was lost or
// changed on the way (credentials included).
func TestRoundTrip(t *testing.T) {
	for _, from := range storagetest.Drivers {
		for _, to := range storagetest.Drivers {
			if from != to && from != "sqlite" && to != "sqlite" {
				continue // sqlite ↔ each server, and each engine to itself
			}
			t.Run(from+" to "+to, func(t *testing.T) {
				src := stores(t, from)
				populate(t, src)
				first := export(t, src, "example.org")
				path := writeFile(t, t.TempDir(), "export.xml", first)

				dst := stores(t, to)
				rep, err := Import(context.Background(), dst, []string{path}, ImportOptions{Domains: []string{"example.org"}})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Imported) != 2 || len(rep.Skipped) != 0 || len(rep.Notes) != 0 {
					var b bytes.Buffer
					rep.Write(&b)
					t.Fatalf("report:\n%s", b.String())
				}
				second := export(t, dst, "example.org")
				if !bytes.Equal(first, second) {
					t.Errorf("export after import differs:\nfirst:  %s\nsecond: %s", first, second)
				}
				c, err := dst.Accounts.Credentials(context.Background(), jid.MustParse("alice@example.org"), sasl.SHA256)
				if err != nil || !passwordMatches(t, c, "älice pw") {
					t.Errorf("imported credentials do not take the password: %v", err)
				}
			})
		}
	}
}

func passwordMatches(t *testing.T, c sasl.Credentials, pw string) bool {
	t.Helper()
	p, err := sasl.PreparePassword(pw)
	must(t, err)
	d, err := sasl.DeriveCredentials(c.Hash, p, c.Salt, c.Iterations)
	must(t, err)
	return bytes.Equal(d.StoredKey, c.StoredKey) && bytes.Equal(d.ServerKey, c.ServerKey)
}

func TestExportContents(t *testing.T) {
	st := stores(t, "sqlite")
	populate(t, st)
	doc := strings.ReplaceAll(string(export(t, st, "example.org", "empty.example")), `"`, "'")
	for _, want := range []string{
		"<server-data xmlns='urn:xmpp:pie:0'>",
		"<host jid='example.org'>",
		"<host jid='empty.example'>",
		"<user name='alice'>",
		"<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-512'>",
		"<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'>",
		"<iter-count>64</iter-count>",
		"<item jid='bob@example.org' name='Bob &lt;the builder&gt;' subscription='both'><group>Friends</group><group>Wörk</group></item>",
		"<item jid='carol@remote.example' subscription='none' ask='subscribe'/>",
		"approved='true'",
		"<presence xmlns='jabber:client' type='subscribe' from='eve@remote.example' to='alice@example.org'/>",
		"<vCard xmlns='vcard-temp'><FN>Alice &amp; Co</FN></vCard>",
		"<query xmlns='jabber:iq:private'>",
		"<offline-messages>",
		"stamp='2023-11-14T22:13:21.001Z'",
		"<blocklist xmlns='urn:xmpp:blocking'><item jid='spam@remote.example'/></blocklist>",
		"<last xmlns='urn:xmpp:parley:pie:last:0' stamp='2023-11-14T22:13:20.123Z'>gone fishing</last>",
		"<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='urn:xmpp:avatar:metadata'><x xmlns='jabber:x:data' type='submit'>",
		"<field var='pubsub#access_model' type='list-single'>",
		"<affiliations node='urn:xmpp:avatar:metadata'><affiliation jid='bob@example.org' affiliation='member'/></affiliations>",
		"<items node='urn:xmpp:avatar:metadata'><item id='old'><metadata xmlns='urn:xmpp:avatar:metadata'><info id='old'",
		"<enable xmlns='urn:xmpp:push:0' jid='push.example.org' node='n1'><x xmlns='jabber:x:data' type='submit'>",
		"<field var='secret'><value>s3cr3t</value></field>",
		"<device xmlns='urn:xmpp:parley:pie:push-device:0' node='n1' provider='apns' token='a1b2' topic='org.example.chat' sandbox='true' created='2023-11-14T22:13:22Z' secret-sha256='BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc='/>",
		"<device xmlns='urn:xmpp:parley:pie:push-device:0' node='n2' provider='fcm' token='f1' topic='' sandbox='false' created='2023-11-14T22:13:23Z' secret-sha256='BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=' disabled='2023-11-14T22:13:24Z'/>",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("export lacks %s", want)
		}
	}
	if strings.Contains(doc, "password") {
		t.Error("export has a password attribute: Parley does not know passwords")
	}
}
