package pubsub_test

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

const (
	nsAvatarMeta = "urn:xmpp:avatar:metadata"
	nsNick       = "http://jabber.org/protocol/nick"
	nsOMEMO      = "eu.siacs.conversations.axolotl.devicelist"
)

var notifyFeatures = []string{
	"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/caps",
	nsAvatarMeta + "+notify", nsNick + "+notify", nsOMEMO + "+notify", "urn:xmpp:bookmarks:1+notify",
}

func publishNick(nick string) string {
	return `<iq type='set' id='pub'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='` + nsNick +
		`'><item id='current'><nick xmlns='` + nsNick + `'>` + nick + `</nick></item></publish></pubsub></iq>`
}

// TestPEPNotifyFilteredByCaps: a publish to one's own account creates the
// node; the notification reaches the owner's resources and contacts whose
// caps (verified by the server's disco#info query) carry node+notify, and
// no one else; a resource that comes online later gets the last item.
func TestPEPNotifyFilteredByCaps(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		e.user(t, u)
	}
	alice := e.dial(t, "alice", notifyFeatures...)
	bob := e.dial(t, "bob", notifyFeatures...)
	carol := e.dial(t, "carol", notifyFeatures...) // not a contact
	dave := e.dial(t, "dave", "http://jabber.org/protocol/disco#info")
	befriend(t, alice, "alice@localhost", bob, "bob@localhost")
	befriend(t, alice, "alice@localhost", dave, "dave@localhost")
	if alice.asked.Load() != 1 || bob.asked.Load() != 0 || carol.asked.Load() != 0 {
		// alice was asked; bob and carol advertise the same hash, which
		// the server knew by then.
		t.Errorf("disco#info queries: alice %d, bob %d, carol %d; want 1, 0, 0", alice.asked.Load(), bob.asked.Load(), carol.asked.Load())
	}

	alice.iq(t, publishNick("Alice"), "result", `id="current"`)
	bob.Expect(t, wait, "nick notification", isEvent(nsNick, "Alice"))
	alice.Expect(t, wait, "own notification", isEvent(nsNick, "Alice"))
	carol.ExpectNone(t, 300*time.Millisecond, "notification to a non-contact", isEvent(nsNick, ""))
	dave.ExpectNone(t, 10*time.Millisecond, "notification without +notify", isEvent(nsNick, ""))

	// A new resource of a contact, with +notify, gets the last item.
	bob2 := e.dial(t, "bob", notifyFeatures...)
	bob2.Expect(t, wait, "last item on coming online", isEvent(nsNick, "Alice"))
	// And so does a new resource of the owner.
	alice2 := e.dial(t, "alice", notifyFeatures...)
	alice2.Expect(t, wait, "owner's last item", isEvent(nsNick, "Alice"))

	// Items can be read back by the contact, not by a stranger (the
	// default PEP access model is presence).
	bob.iq(t, `<iq type='get' id='g' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='`+nsNick+`'/></pubsub></iq>`,
		"result", "Alice")
	carol.iq(t, `<iq type='get' id='g' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='`+nsNick+`'/></pubsub></iq>`,
		"error", "not-authorized", "presence-subscription-required")

	// Retract notifies.
	alice.iq(t, `<iq type='set' id='r'><pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='`+nsNick+`' notify='true'><item id='current'/></retract></pubsub></iq>`, "result")
	bob.Expect(t, wait, "retraction", isEvent(nsNick, `<retract`))
}

// TestCapsUnverifiedIsNotUsed: a client whose disco#info does not hash to
// the advertised value gets no notifications, and its hash is not cached.
func TestCapsUnverifiedIsNotUsed(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	e.user(t, "mallory")
	alice := e.dial(t, "alice", notifyFeatures...)
	m := &client{}
	m.Client = e.srv.Dial(t, "mallory@localhost", "pw", xmpptest.DialOptions{Answer: discoAnswer([]string{nsNick + "+notify"}, &m.asked, true)})
	m.Send(t, `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='`+capsNode+`' ver='`+capsVer([]string{nsNick + "+notify"})+`'/></presence>`)
	m.sync(t)
	befriend(t, alice, "alice@localhost", m, "mallory@localhost")
	alice.iq(t, publishNick("A"), "result")
	alice.Expect(t, wait, "own notification", isEvent(nsNick, ">A<"))
	m.ExpectNone(t, 300*time.Millisecond, "notification on an unverified hash", isEvent(nsNick, ""))
	if m.asked.Load() != 1 {
		t.Errorf("mallory was asked %d times, want 1", m.asked.Load())
	}
}

// TestCapsFloodIsBounded: a client sending many presences with unknown
// hashes is asked a bounded number of times, and keeps working.
func TestCapsFloodIsBounded(t *testing.T) {
	e := newEnv(t)
	e.user(t, "eve")
	eve := &client{}
	eve.Client = e.srv.Dial(t, "eve@localhost", "pw", xmpptest.DialOptions{Answer: discoAnswer(nil, &eve.asked, false)})
	for i := range 200 {
		eve.Send(t, `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='x' ver='flood`+strings.Repeat("a", i%7)+string(rune('A'+i%26))+`'/></presence>`)
	}
	eve.sync(t)
	if eve.asked.Load() == 0 || eve.asked.Load() > 8 {
		t.Fatalf("the server sent %d disco#info queries for 200 unknown hashes; want between 1 and 8", eve.asked.Load())
	}
}

// TestPublishOptions: XEP-0223 publish-options create the node with them,
// an existing node with other values refuses with precondition-not-met,
// and max_items=max with access_model=open (OMEMO) is readable by anyone.
func TestPublishOptions(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	e.user(t, "carol")
	alice := e.dial(t, "alice")
	carol := e.dial(t, "carol")
	opts := func(access, max string) string {
		return `<publish-options><x xmlns='jabber:x:data' type='submit'>` +
			`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
			`<field var='pubsub#access_model'><value>` + access + `</value></field>` +
			`<field var='pubsub#max_items'><value>` + max + `</value></field>` +
			`<field var='pubsub#persist_items'><value>true</value></field></x></publish-options>`
	}
	devicelist := `<iq type='set' id='om'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='` + nsOMEMO + `'><item id='current'>` +
		`<list xmlns='eu.siacs.conversations.axolotl'><device id='12345'/></list></item></publish>%s</pubsub></iq>`
	alice.iq(t, strings.Replace(devicelist, "%s", opts("open", "max"), 1), "result")
	// The same options again: accepted.
	alice.iq(t, strings.Replace(devicelist, "%s", opts("open", "max"), 1), "result")
	// Conflicting options: refused, nothing changed.
	alice.iq(t, strings.Replace(devicelist, "%s", opts("presence", "max"), 1), "error", "conflict", "precondition-not-met")
	alice.iq(t, strings.Replace(devicelist, "%s", opts("open", "5"), 1), "error", "precondition-not-met")
	// A non-contact reads the open device list.
	carol.iq(t, `<iq type='get' id='g' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='`+nsOMEMO+`'/></pubsub></iq>`,
		"result", `id="12345"`)
	// The owner sees the configuration.
	alice.iq(t, `<iq type='get' id='c'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='`+nsOMEMO+`'/></pubsub></iq>`,
		"result", ">open</value></field>", ">1000</value>")
	// An unsupported value is not accepted on creation either.
	alice.iq(t, `<iq type='set' id='bad'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:example:n'><item><x xmlns='urn:example'/></item></publish>`+
		opts("nonsense", "1")+`</pubsub></iq>`, "error", "precondition-not-met")
	// Another user cannot publish to alice's account.
	carol.iq(t, `<iq type='set' id='p' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:example:n'><item><x xmlns='urn:example'/></item></publish></pubsub></iq>`,
		"error", "forbidden")
}

// TestPEPLimits: an item over the size limit is refused with
// payload-too-big; nodes past the per-user limit with a policy error,
// leaving the existing ones intact.
func TestPEPLimits(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.PubSub.MaxItemBytes = 1024; c.PubSub.MaxNodesPerUser = 20 })
	e.user(t, "alice")
	alice := e.dial(t, "alice")
	big := strings.Repeat("x", 2000)
	alice.iq(t, `<iq type='set' id='b'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:example:big'><item><x xmlns='urn:example'>`+big+`</x></item></publish></pubsub></iq>`,
		"error", "not-acceptable", "payload-too-big")
	for i := range 20 {
		alice.iq(t, `<iq type='set' id='n'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:example:n`+itoa(i)+`'><item id='i'><x xmlns='urn:example'>`+itoa(i)+`</x></item></publish></pubsub></iq>`, "result")
	}
	alice.iq(t, `<iq type='set' id='n'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:example:one-too-many'><item><x xmlns='urn:example'/></item></publish></pubsub></iq>`,
		"error", "policy-violation", "max-nodes-exceeded")
	for _, i := range []int{0, 19} {
		alice.iq(t, `<iq type='get' id='g'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:example:n`+itoa(i)+`'/></pubsub></iq>`,
			"result", ">"+itoa(i)+"<")
	}
}

// caps2Hash computes a XEP-0390 §4.1 SHA-256 capability hash for the
// identity client/pc/parley-test and features (written from the XEP).
func caps2Hash(features []string) string {
	var fs []string
	for _, f := range features {
		fs = append(fs, f+"\x1f")
	}
	slices.Sort(fs)
	in := strings.Join(fs, "") + "\x1c" + "client\x1fpc\x1f\x1fparley-test\x1f\x1e\x1c" + "\x1c"
	sum := sha256.Sum256([]byte(in))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestPEPNodeManagement: XEP-0390 caps, XEP-0084 avatars, and the owner's
// configure, purge and delete on a PEP node, each notified to a contact
// asking for it.
func TestPEPNodeManagement(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		e.user(t, u)
	}
	alice := e.dial(t, "alice", notifyFeatures...)
	carol := e.dial(t, "carol")
	// bob's client advertises XEP-0390 caps only.
	bob := &client{}
	bob.Client = e.srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{Answer: discoAnswer(notifyFeatures, &bob.asked, false)})
	bob.Send(t, `<presence><c xmlns='urn:xmpp:caps'><hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>`+caps2Hash(notifyFeatures)+`</hash></c></presence>`)
	bob.sync(t)
	befriend(t, alice, "alice@localhost", bob, "bob@localhost")
	if bob.asked.Load() != 1 {
		t.Fatalf("bob's XEP-0390 hash: asked %d times, want 1", bob.asked.Load())
	}

	// XEP-0084: data, then metadata, both open.
	open := `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
		`<field var='pubsub#access_model'><value>open</value></field></x></publish-options>`
	alice.iq(t, `<iq type='set' id='d'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:avatar:data'><item id='abc'><data xmlns='urn:xmpp:avatar:data'>iVBORw0KGgo=</data></item></publish>`+open+`</pubsub></iq>`, "result")
	alice.iq(t, `<iq type='set' id='m'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='`+nsAvatarMeta+`'><item id='abc'><metadata xmlns='`+nsAvatarMeta+`'><info id='abc' bytes='8' type='image/png'/></metadata></item></publish>`+open+`</pubsub></iq>`, "result")
	bob.Expect(t, wait, "avatar metadata (XEP-0390 caps)", isEvent(nsAvatarMeta, `id="abc"`))
	carol.iq(t, `<iq type='get' id='g' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'><item id='abc'/></items></pubsub></iq>`,
		"result", "iVBORw0KGgo=")

	// disco#items of the account lists the nodes the asker may read.
	carol.iq(t, `<iq type='get' id='i' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, "result",
		`node="urn:xmpp:avatar:data"`, `node="`+nsAvatarMeta+`"`)
	alice.iq(t, publishNick("A"), "result") // presence access
	if r := carol.iq(t, `<iq type='get' id='i' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, "result"); strings.Contains(r.Inner, nsNick) {
		t.Fatalf("a stranger sees a presence-only node: %s", r.Inner)
	}
	bob.iq(t, `<iq type='get' id='i' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, "result", `node="`+nsNick+`"`)

	// The owner closes the metadata node to contacts and opens it again.
	form := func(access string) string {
		return `<iq type='set' id='c'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='` + nsAvatarMeta + `'><x xmlns='jabber:x:data' type='submit'>` +
			`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>` +
			`<field var='pubsub#access_model'><value>` + access + `</value></field></x></configure></pubsub></iq>`
	}
	alice.iq(t, form("whitelist"), "result")
	carol.iq(t, `<iq type='get' id='g' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='`+nsAvatarMeta+`'/></pubsub></iq>`, "error", "closed-node")
	bob.iq(t, strings.Replace(form("open"), "id='c'", "id='c' to='alice@localhost'", 1), "error", "forbidden")

	alice.iq(t, `<iq type='set' id='p'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><purge node='urn:xmpp:avatar:data'/></pubsub></iq>`, "result")
	alice.iq(t, `<iq type='get' id='g'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'/></pubsub></iq>`, "result")
	alice.iq(t, form("open"), "result")
	alice.iq(t, `<iq type='set' id='x'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><delete node='`+nsAvatarMeta+`'/></pubsub></iq>`, "result")
	bob.Expect(t, wait, "node deletion", isEvent(nsAvatarMeta, "<delete"))
	alice.iq(t, `<iq type='get' id='g'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='`+nsAvatarMeta+`'/></pubsub></iq>`, "error", "item-not-found")
	carol.iq(t, `<iq type='set' id='x' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><delete node='urn:xmpp:avatar:data'/></pubsub></iq>`, "error", "forbidden")
}

// TestItemsPagedBySize: an items request without a limit on a node of
// large items is answered in pages that fit a session's queue, with the
// XEP-0059 set that lets the client page on to the rest.
func TestItemsPagedBySize(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.PubSub.MaxItemBytes = 400 << 10; c.Limits.MaxStanzaBytes = 512 << 10 })
	e.user(t, "alice")
	alice := e.dial(t, "alice")
	big := strings.Repeat("y", 300<<10)
	opts := `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
		`<field var='pubsub#max_items'><value>10</value></field></x></publish-options>`
	for i := range 5 {
		alice.iq(t, `<iq type='set' id='b'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:example:big'><item id='i`+itoa(i)+`'><x xmlns='urn:example'>`+big+`</x></item></publish>`+opts+`</pubsub></iq>`, "result")
	}
	res := alice.iq(t, `<iq type='get' id='g'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:example:big'/></pubsub></iq>`, "result", ">5</count>")
	n := strings.Count(res.Inner, "<item ")
	if n == 0 || n >= 5 || len(res.Inner) > 2<<20 {
		t.Fatalf("first answer has %d items, %d bytes", n, len(res.Inner))
	}
	last := between(res.Inner, `<last xmlns="http://jabber.org/protocol/rsm">`, "<")
	rest := alice.iq(t, `<iq type='get' id='g'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:example:big'/><set xmlns='http://jabber.org/protocol/rsm'><after>`+last+`</after></set></pubsub></iq>`, "result", `id="i0"`)
	if got := strings.Count(rest.Inner, "<item "); n+got != 5 {
		t.Fatalf("pages of %d and %d items, want 5 in all", n, got)
	}
}
