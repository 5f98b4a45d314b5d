package pubsub_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"mellium.im/xmpp/bookmarks"
	mjid "mellium.im/xmpp/jid"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestBookmarks: a XEP-0402 bookmark published by one resource (mellium's
// bookmarks client) reaches the user's second resource, reads back as
// XEP-0048 private XML, and a XEP-0048 write through private XML comes
// back as XEP-0402 items (XEP-0411); contacts cannot read them.
func TestBookmarks(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	e.user(t, "bob")
	one := e.dial(t, "alice", notifyFeatures...)
	two := e.dial(t, "alice", notifyFeatures...)
	bob := e.dial(t, "bob", notifyFeatures...)
	befriend(t, one, "alice@localhost", bob, "bob@localhost")

	room := mjid.MustParse("tea@conference.localhost")
	if err := bookmarks.Publish(context.Background(), one.S, bookmarks.Channel{JID: room, Name: "Tea", Autojoin: true, Nick: "al"}); err != nil {
		t.Fatalf("publish bookmark: %v", err)
	}
	two.Expect(t, wait, "bookmark on the second resource", isEvent("urn:xmpp:bookmarks:1", "tea@conference.localhost"))
	one.iq(t, `<iq type='get' id='p'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
		"result", `jid="tea@conference.localhost"`, `autojoin="true"`, `name="Tea"`, ">al</nick>")
	bob.iq(t, `<iq type='get' id='g' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>`,
		"error", "closed-node")
	bob.ExpectNone(t, 1, "bookmark notification to a contact", isEvent("urn:xmpp:bookmarks:1", ""))

	// A legacy client replaces the bookmarks through private XML.
	two.iq(t, `<iq type='set' id='p'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>`+
		`<conference jid='coffee@conference.localhost' name='Coffee' autojoin='false'><nick>ally</nick></conference>`+
		`<url name='site' url='https://example.org/'/></storage></query></iq>`, "result")
	one.Expect(t, wait, "converted bookmark", isEvent("urn:xmpp:bookmarks:1", "coffee@conference.localhost"))
	one.Expect(t, wait, "removed bookmark", isEvent("urn:xmpp:bookmarks:1", `<retract xmlns="http://jabber.org/protocol/pubsub#event" id="tea@conference.localhost"`))
	iter := bookmarks.Fetch(context.Background(), one.S)
	var got []string
	for iter.Next() {
		b := iter.Bookmark()
		got = append(got, b.JID.String()+"/"+b.Name+"/"+b.Nick)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	iter.Close()
	if len(got) != 1 || got[0] != "coffee@conference.localhost/Coffee/ally" {
		t.Fatalf("bookmarks after the private XML write: %v", got)
	}
	// Publishing again keeps the legacy-only URL bookmark in private XML.
	if err := bookmarks.Publish(context.Background(), one.S, bookmarks.Channel{JID: room, Name: "Tea"}); err != nil {
		t.Fatal(err)
	}
	one.iq(t, `<iq type='get' id='p'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
		"result", "coffee@conference.localhost", "tea@conference.localhost", "https://example.org/")
}

// TestAvatarHashInPresence: the XEP-0153 hash of the vCard PHOTO is added
// to presence of clients that do not add it; a new vCard changes it.
func TestAvatarHashInPresence(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	e.user(t, "bob")
	alice, bob := e.dial(t, "alice"), e.dial(t, "bob")
	befriend(t, alice, "alice@localhost", bob, "bob@localhost")
	photo := []byte("\x89PNG not really")
	alice.iq(t, `<iq type='set' id='v'><vCard xmlns='vcard-temp'><FN>Alice</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>`+
		base64.StdEncoding.EncodeToString(photo)+`</BINVAL></PHOTO></vCard></iq>`, "result")
	sum := sha1.Sum(photo)
	alice.Send(t, `<presence><status>here</status></presence>`)
	bob.Expect(t, wait, "presence with the photo hash", func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "presence" && strings.Contains(st.Inner, "vcard-temp:x:update") && strings.Contains(st.Inner, hex.EncodeToString(sum[:]))
	})
	alice.iq(t, `<iq type='set' id='v'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>`, "result")
	alice.Send(t, `<presence><status>no photo</status></presence>`)
	bob.Expect(t, wait, "presence with an empty photo", func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "presence" && strings.Contains(st.Inner, "no photo") && strings.Contains(st.Inner, `<photo xmlns="vcard-temp:x:update"></photo>`)
	})
	// A client's own element is left alone.
	alice.Send(t, `<presence><x xmlns='vcard-temp:x:update'><photo>abc</photo></x></presence>`)
	bob.Expect(t, wait, "the client's own hash", func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "presence" && strings.Contains(st.Inner, ">abc</photo>") && !strings.Contains(st.Inner, "></photo>")
	})
}

// TestPersistenceAcrossRestart: nodes, items, subscriptions, affiliations
// and the caps cache survive a restart on the same data directory.
func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	onDir := func(c *config.Config) { c.DataDir = dir }
	e := newEnv(t, onDir)
	for _, u := range []string{"alice", "bob"} {
		e.user(t, u)
	}
	alice := e.dial(t, "alice", notifyFeatures...)
	bob := e.dial(t, "bob")
	befriend(t, alice, "alice@localhost", bob, "bob@localhost")
	alice.iq(t, publishNick("Persistent Alice"), "result")
	alice.iq(t, set(ps(`<create node='kept'/><configure>`+configForm(map[string]string{"pubsub#access_model": "whitelist"})+`</configure>`)), "result")
	alice.iq(t, set(ps(`<publish node='kept'>`+item("1", "kept item")+`</publish>`)), "result")
	alice.iq(t, set(owner(`<affiliations node='kept'><affiliation jid='bob@localhost' affiliation='member'/></affiliations>`)), "result")
	bob.iq(t, set(ps(`<subscribe node='kept' jid='bob@localhost'/>`)), "result")
	if alice.asked.Load() != 1 {
		t.Fatalf("alice was asked %d times for her caps", alice.asked.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10e9)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	e = newEnv(t, onDir)
	// The same caps hash is known: no query, and the last item comes.
	alice = e.dial(t, "alice", notifyFeatures...)
	alice.Expect(t, wait, "last item after restart", isEvent(nsNick, "Persistent Alice"))
	if alice.asked.Load() != 0 {
		t.Errorf("the caps cache did not survive the restart: asked %d times", alice.asked.Load())
	}
	bob = e.dial(t, "bob")
	bob.iq(t, get(ps(`<items node='kept'/>`)), "result", "kept item")
	bob.iq(t, get(ps(`<subscriptions/>`)), "result", `node="kept"`, `subscription="subscribed"`)
	alice.iq(t, set(ps(`<publish node='kept'>`+item("2", "after restart")+`</publish>`)), "result")
	bob.Expect(t, wait, "notification after restart", isEvent("kept", "after restart"))
}

// TestAvatarHashRepublished: when a user's vCard photo changes, contacts
// get the user's presence again with the new XEP-0153 hash, without the
// client sending presence; a hash of the client's own is left alone.
func TestAvatarHashRepublished(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	e.user(t, "bob")
	alice, bob := e.dial(t, "alice"), e.dial(t, "bob")
	befriend(t, alice, "alice@localhost", bob, "bob@localhost")
	alice.Send(t, `<presence><status>set once</status></presence>`)
	bob.Expect(t, wait, "alice's presence", func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "presence" && strings.Contains(st.Inner, "set once")
	})
	hashOf := func(photo []byte) string { sum := sha1.Sum(photo); return hex.EncodeToString(sum[:]) }
	setPhoto := func(photo []byte) {
		alice.iq(t, `<iq type='set' id='v'><vCard xmlns='vcard-temp'><FN>Alice</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>`+
			base64.StdEncoding.EncodeToString(photo)+`</BINVAL></PHOTO></vCard></iq>`, "result")
	}
	for _, photo := range [][]byte{[]byte("first"), []byte("second")} {
		setPhoto(photo)
		bob.Expect(t, wait, "presence with the new hash", func(st xmpptest.Stanza) bool {
			return st.XMLName.Local == "presence" && strings.Contains(st.Inner, "set once") && strings.Contains(st.Inner, ">"+hashOf(photo)+"</photo>")
		})
	}
	// The client's own hash: a new photo does not override it. A message
	// after the vCard set is the barrier (the presence would come first).
	alice.Send(t, `<presence><status>own</status><x xmlns='vcard-temp:x:update'><photo>abc</photo></x></presence>`)
	bob.Expect(t, wait, "the client's own hash", func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "presence" && strings.Contains(st.Inner, ">abc</photo>")
	})
	setPhoto([]byte("third"))
	alice.Send(t, `<message to='bob@localhost' type='chat'><body>barrier</body></message>`)
	bob.Expect(t, wait, "the barrier message", func(st xmpptest.Stanza) bool {
		if st.XMLName.Local == "presence" && strings.Contains(st.Inner, hashOf([]byte("third"))) {
			t.Errorf("the client's own hash was replaced: %s", st.Inner)
		}
		return st.XMLName.Local == "message" && strings.Contains(st.Inner, "barrier")
	})
}
