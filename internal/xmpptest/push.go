package xmpptest

import (
	"testing"
)

// EnablePush turns on XEP-0357 push notifications for c's account at the
// app server service under node, with secret as the publish-options
// secret (§5); the test fails unless the server answers with a result.
func (c *Client) EnablePush(t testing.TB, service, node, secret string) {
	t.Helper()
	res := c.IQ(t, `<iq type='set' id='e1'><enable xmlns='urn:xmpp:push:0' jid='`+service+`' node='`+node+`'>`+
		`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>`+
		`<field var='secret'><value>`+secret+`</value></field></x></enable></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("xmpptest: enable push at %s node %s: %s", service, node, res.Inner)
	}
}
