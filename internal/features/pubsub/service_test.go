package pubsub_test

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	mpubsub "mellium.im/xmpp/pubsub"

	"github.com/parleyim/parley/internal/config"

	"github.com/parleyim/parley/internal/xmpptest"
)

const svc = "pubsub.localhost"

func ps(body string) string {
	return `<pubsub xmlns='http://jabber.org/protocol/pubsub'>` + body + `</pubsub>`
}

func owner(body string) string {
	return `<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>` + body + `</pubsub>`
}

func set(body string) string { return `<iq type='set' id='s' to='` + svc + `'>` + body + `</iq>` }
func get(body string) string { return `<iq type='get' id='g' to='` + svc + `'>` + body + `</iq>` }

func configForm(fields map[string]string) string {
	var b strings.Builder
	b.WriteString(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>`)
	for k, v := range fields {
		b.WriteString(`<field var='` + k + `'><value>` + v + `</value></field>`)
	}
	b.WriteString(`</x>`)
	return b.String()
}

func item(id, text string) string {
	return `<item id='` + id + `'><entry xmlns='http://www.w3.org/2005/Atom'><title>` + text + `</title></entry></item>`
}

// TestServiceNodeLifecycle: create, configure, publish with notifications
// to a subscriber, items with RSM paging, retract, purge and delete over
// the service on pubsub.localhost; disco lists the service and its nodes.
func TestServiceNodeLifecycle(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"alice", "bob"} {
		e.user(t, u)
	}
	alice, bob := e.dial(t, "alice"), e.dial(t, "bob")

	alice.iq(t, `<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, "result", svc)
	alice.iq(t, get(`<query xmlns='http://jabber.org/protocol/disco#info'/>`), "result", `type="service"`, "pubsub#publish")
	alice.iq(t, set(ps(`<create node='blog'/><configure>`+configForm(map[string]string{"pubsub#title": "Blog", "pubsub#max_items": "3"})+`</configure>`)), "result")
	alice.iq(t, set(ps(`<create node='blog'/>`)), "error", "conflict")
	// An instant node gets a name from the service.
	alice.iq(t, set(ps(`<create/>`)), "result", "<create")
	alice.iq(t, get(`<query xmlns='http://jabber.org/protocol/disco#items'/>`), "result", `node="blog"`, `name="Blog"`)
	alice.iq(t, get(`<query xmlns='http://jabber.org/protocol/disco#info' node='blog'/>`), "result", `type="leaf"`)

	bob.iq(t, set(ps(`<subscribe node='blog' jid='bob@localhost'/>`)), "result", `subscription="subscribed"`)
	bob.iq(t, set(ps(`<subscribe node='blog' jid='alice@localhost'/>`)), "error", "invalid-jid")
	bob.iq(t, set(ps(`<subscribe node='nonexistent' jid='bob@localhost'/>`)), "error", "item-not-found")

	// mellium's pubsub client publishes; bob hears of each item.
	for i, title := range []string{"one", "two", "three", "four"} {
		id := []string{"a", "b", "c", "d"}[i]
		_, err := mpubsub.PublishIQ(context.Background(), alice.S, iqTo(svc), "blog", id,
			xml.NewDecoder(strings.NewReader(`<entry xmlns='http://www.w3.org/2005/Atom'><title>`+title+`</title></entry>`)))
		if err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
		bob.Expect(t, wait, "notification "+title, isEvent("blog", title))
	}
	bob.iq(t, set(ps(`<publish node='blog'>`+item("x", "bob's")+`</publish>`)), "error", "forbidden")

	// max_items=3 kept the newest three; RSM pages through them.
	res := bob.iq(t, get(ps(`<items node='blog'/><set xmlns='http://jabber.org/protocol/rsm'><max>2</max></set>`)), "result", "four", "three", "<count", ">3</count>")
	if strings.Contains(res.Inner, ">two<") || strings.Contains(res.Inner, ">one<") {
		t.Fatalf("first page: %s", res.Inner)
	}
	res = bob.iq(t, get(ps(`<items node='blog'/><set xmlns='http://jabber.org/protocol/rsm'><max>2</max><after>c</after></set>`)), "result", "two")
	if strings.Contains(res.Inner, ">three<") || strings.Contains(res.Inner, ">one<") {
		t.Fatalf("second page: %s", res.Inner)
	}
	bob.iq(t, get(ps(`<items node='blog' max_items='1'/>`)), "result", "four")
	bob.iq(t, get(ps(`<items node='blog'><item id='b'/></items>`)), "result", "two")

	alice.iq(t, set(ps(`<retract node='blog' notify='1'><item id='d'/></retract>`)), "result")
	bob.Expect(t, wait, "retraction", isEvent("blog", `<retract`))
	bob.iq(t, set(ps(`<retract node='blog'><item id='c'/></retract>`)), "error", "forbidden")

	bob.iq(t, set(owner(`<purge node='blog'/>`)), "error", "forbidden")
	alice.iq(t, set(owner(`<purge node='blog'/>`)), "result")
	bob.Expect(t, wait, "purge", isEvent("blog", "<purge"))
	if r := bob.iq(t, get(ps(`<items node='blog'/>`)), "result"); strings.Contains(r.Inner, "<item ") {
		t.Fatalf("items after purge: %s", r.Inner)
	}

	bob.iq(t, set(ps(`<unsubscribe node='blog' jid='bob@localhost'/>`)), "result")
	bob.iq(t, set(ps(`<unsubscribe node='blog' jid='bob@localhost'/>`)), "error", "not-subscribed")
	bob.iq(t, set(ps(`<subscribe node='blog' jid='bob@localhost'/>`)), "result")
	alice.iq(t, set(owner(`<delete node='blog'/>`)), "result")
	bob.Expect(t, wait, "deletion", isEvent("blog", "<delete"))
	alice.iq(t, get(ps(`<items node='blog'/>`)), "error", "item-not-found")
}

// TestServiceAccessModels: open, presence, roster, whitelist and authorize
// each let in whom they should and answer others with the XEP's error.
func TestServiceAccessModels(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		e.user(t, u)
	}
	alice, bob, carol := e.dial(t, "alice"), e.dial(t, "bob"), e.dial(t, "carol")
	befriend(t, alice, "alice@localhost", bob, "bob@localhost")
	for _, m := range []string{"open", "presence", "roster", "whitelist", "authorize"} {
		alice.iq(t, set(ps(`<create node='`+m+`'/><configure>`+configForm(map[string]string{"pubsub#access_model": m})+`</configure>`)), "result")
		alice.iq(t, set(ps(`<publish node='`+m+`'>`+item("1", "secret-"+m)+`</publish>`)), "result")
	}
	read := func(c *client, node, want string, has ...string) {
		t.Helper()
		c.iq(t, get(ps(`<items node='`+node+`'/>`)), want, has...)
	}
	read(carol, "open", "result", "secret-open")
	read(bob, "presence", "result", "secret-presence")
	read(carol, "presence", "error", "presence-subscription-required")
	read(bob, "roster", "result", "secret-roster")
	read(carol, "roster", "error", "not-in-roster-group")
	read(bob, "whitelist", "error", "closed-node")
	carol.iq(t, set(ps(`<subscribe node='whitelist' jid='carol@localhost'/>`)), "error", "closed-node")
	alice.iq(t, set(owner(`<affiliations node='whitelist'><affiliation jid='bob@localhost' affiliation='member'/></affiliations>`)), "result")
	read(bob, "whitelist", "result", "secret-whitelist")
	alice.iq(t, get(owner(`<affiliations node='whitelist'/>`)), "result", `jid="bob@localhost"`, `affiliation="member"`)

	// authorize: the subscription is pending until the owner approves
	// through the form the service sends.
	read(carol, "authorize", "error", "not-subscribed")
	carol.iq(t, set(ps(`<subscribe node='authorize' jid='carol@localhost'/>`)), "result", `subscription="pending"`)
	form := alice.Expect(t, wait, "authorization form", func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "message" && strings.Contains(st.Inner, "pubsub#subscribe_authorization")
	})
	subid := between(form.Inner, `var="pubsub#subid" type="hidden"><value xmlns="jabber:x:data">`, "<")
	alice.Send(t, `<message to='`+svc+`'><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#subscribe_authorization</value></field>`+
		`<field var='pubsub#subid'><value>`+subid+`</value></field>`+
		`<field var='pubsub#node'><value>authorize</value></field>`+
		`<field var='pubsub#subscriber_jid'><value>carol@localhost</value></field>`+
		`<field var='pubsub#allow'><value>true</value></field></x></message>`)
	carol.Expect(t, wait, "approval", isEvent("authorize", `subscription="subscribed"`))
	read(carol, "authorize", "result", "secret-authorize")
	// A denied request.
	bob.iq(t, set(ps(`<subscribe node='authorize' jid='bob@localhost'/>`)), "result", `subscription="pending"`)
	alice.Expect(t, wait, "second form", func(st xmpptest.Stanza) bool {
		return st.XMLName.Local == "message" && strings.Contains(st.Inner, "bob@localhost")
	})
	alice.Send(t, `<message to='`+svc+`'><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#subscribe_authorization</value></field>`+
		`<field var='pubsub#node'><value>authorize</value></field>`+
		`<field var='pubsub#subscriber_jid'><value>bob@localhost</value></field>`+
		`<field var='pubsub#allow'><value>false</value></field></x></message>`)
	bob.Expect(t, wait, "denial", isEvent("authorize", `subscription="none"`))
	read(bob, "authorize", "error", "not-subscribed")
}

// TestServiceAffiliations: publisher, publish-only, member and outcast
// have the rights XEP-0060 §4.1 gives them; only owners manage the node.
func TestServiceAffiliations(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"alice", "bob", "carol", "dave", "mallory"} {
		e.user(t, u)
	}
	alice, bob, carol, dave, mallory := e.dial(t, "alice"), e.dial(t, "bob"), e.dial(t, "carol"), e.dial(t, "dave"), e.dial(t, "mallory")
	alice.iq(t, set(ps(`<create node='n'/>`)), "result")
	alice.iq(t, set(owner(`<affiliations node='n'>`+
		`<affiliation jid='bob@localhost' affiliation='publisher'/>`+
		`<affiliation jid='carol@localhost' affiliation='publish-only'/>`+
		`<affiliation jid='dave@localhost' affiliation='member'/>`+
		`<affiliation jid='mallory@localhost' affiliation='outcast'/></affiliations>`)), "result")
	bob.iq(t, set(ps(`<publish node='n'>`+item("b", "by bob")+`</publish>`)), "result")
	carol.iq(t, set(ps(`<publish node='n'>`+item("c", "by carol")+`</publish>`)), "result")
	dave.iq(t, set(ps(`<publish node='n'>`+item("d", "by dave")+`</publish>`)), "error", "forbidden")
	mallory.iq(t, set(ps(`<publish node='n'>`+item("m", "by mallory")+`</publish>`)), "error", "forbidden")
	mallory.iq(t, get(ps(`<items node='n'/>`)), "error", "forbidden")
	mallory.iq(t, set(ps(`<subscribe node='n' jid='mallory@localhost'/>`)), "error", "forbidden")
	carol.iq(t, set(ps(`<retract node='n'><item id='b'/></retract>`)), "error", "forbidden")
	carol.iq(t, set(ps(`<retract node='n'><item id='c'/></retract>`)), "result")
	bob.iq(t, set(ps(`<retract node='n'><item id='b'/></retract>`)), "result")
	bob.iq(t, set(owner(`<configure node='n'>`+configForm(map[string]string{"pubsub#title": "x"})+`</configure>`)), "error", "forbidden")
	bob.iq(t, set(owner(`<delete node='n'/>`)), "error", "forbidden")
	alice.iq(t, get(owner(`<configure node='n'/>`)), "result", "pubsub#node_config")
	alice.iq(t, set(owner(`<affiliations node='n'><affiliation jid='alice@localhost' affiliation='none'/></affiliations>`)), "error", "not-acceptable")
	bob.iq(t, get(ps(`<affiliations/>`)), "result", `affiliation="publisher"`)
	// Creation follows pubsub.create (local by default): a local user may.
	dave.iq(t, set(ps(`<create node='daves'/>`)), "result")
}

// TestServiceSubscriptionOptions: subscribe with options, read and change
// them; pubsub#deliver=false stops notifications.
func TestServiceSubscriptionOptions(t *testing.T) {
	e := newEnv(t)
	e.user(t, "alice")
	e.user(t, "bob")
	alice, bob := e.dial(t, "alice"), e.dial(t, "bob")
	alice.iq(t, set(ps(`<create node='n'/>`)), "result")
	bob.iq(t, set(ps(`<subscribe node='n' jid='bob@localhost'/><options><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#subscribe_options</value></field>`+
		`<field var='pubsub#deliver'><value>false</value></field></x></options>`)), "result")
	bob.iq(t, get(ps(`<options node='n' jid='bob@localhost'/>`)), "result", "pubsub#deliver", ">0</value>")
	alice.iq(t, set(ps(`<publish node='n'>`+item("1", "quiet")+`</publish>`)), "result")
	bob.ExpectNone(t, 300*time.Millisecond, "notification with deliver=false", isEvent("n", "quiet"))
	bob.iq(t, set(ps(`<options node='n' jid='bob@localhost'><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#subscribe_options</value></field>`+
		`<field var='pubsub#deliver'><value>1</value></field></x></options>`)), "result")
	alice.iq(t, set(ps(`<publish node='n'>`+item("2", "loud")+`</publish>`)), "result")
	bob.Expect(t, wait, "notification with deliver=true", isEvent("n", "loud"))
	alice.iq(t, get(owner(`<subscriptions node='n'/>`)), "result", `jid="bob@localhost"`, `subscription="subscribed"`)
	bob.iq(t, get(ps(`<subscriptions/>`)), "result", `node="n"`)
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return s
}

// TestServiceWhoMayCreate: pubsub.create = "admins" lets only the listed
// JIDs create nodes; others get forbidden, and may still subscribe.
func TestServiceWhoMayCreate(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.PubSub.Create, c.PubSub.Admins = "admins", []string{"root@localhost"} })
	e.user(t, "root")
	e.user(t, "alice")
	root, alice := e.dial(t, "root"), e.dial(t, "alice")
	alice.iq(t, set(ps(`<create node='mine'/>`)), "error", "forbidden")
	root.iq(t, set(ps(`<create node='news'/>`)), "result")
	alice.iq(t, set(ps(`<subscribe node='news' jid='alice@localhost'/>`)), "result", `subscription="subscribed"`)
	// PEP is not the service: alice still creates nodes on her account.
	alice.iq(t, `<iq type='set' id='c'><pubsub xmlns='http://jabber.org/protocol/pubsub'><create node='urn:example:mine'/></pubsub></iq>`, "result")
}
