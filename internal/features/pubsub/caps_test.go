package pubsub

import (
	"testing"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

func mustParse(t *testing.T, s string) *stanza.Element {
	t.Helper()
	els, err := storage.DecodeElements([]byte(s))
	if err != nil || len(els) != 1 {
		t.Fatalf("parse %q: %v", s, err)
	}
	return els[0]
}

// The examples of XEP-0115 §5.2 and §5.3 and XEP-0390 §4.5.1.
const (
	simple115 = `<query xmlns='http://jabber.org/protocol/disco#info'>
  <identity category='client' name='Exodus 0.9.1' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
</query>`
	complex115 = `<query xmlns='http://jabber.org/protocol/disco#info'>
  <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
  <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <x xmlns='jabber:x:data' type='result'>
    <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
    <field var='ip_version'><value>ipv4</value><value>ipv6</value></field>
    <field var='os'><value>Mac</value></field>
    <field var='os_version'><value>10.5.1</value></field>
    <field var='software'><value>Psi</value></field>
    <field var='software_version'><value>0.11</value></field>
  </x>
</query>`
	simple390 = `<query xmlns="http://jabber.org/protocol/disco#info">
  <identity category="client" name="BombusMod" type="mobile"/>
  <feature var="http://jabber.org/protocol/si"/>
  <feature var="http://jabber.org/protocol/bytestreams"/>
  <feature var="http://jabber.org/protocol/chatstates"/>
  <feature var="http://jabber.org/protocol/disco#info"/>
  <feature var="http://jabber.org/protocol/disco#items"/>
  <feature var="urn:xmpp:ping"/>
  <feature var="jabber:iq:time"/>
  <feature var="jabber:iq:privacy"/>
  <feature var="jabber:iq:version"/>
  <feature var="http://jabber.org/protocol/rosterx"/>
  <feature var="urn:xmpp:time"/>
  <feature var="jabber:x:oob"/>
  <feature var="http://jabber.org/protocol/ibb"/>
  <feature var="http://jabber.org/protocol/si/profile/file-transfer"/>
  <feature var="urn:xmpp:receipts"/>
  <feature var="jabber:iq:roster"/>
  <feature var="jabber:iq:last"/>
</query>`
)

func TestVerifyCapsVectors(t *testing.T) {
	for _, tc := range []struct {
		name, info string
		pres       string
	}{
		{"XEP-0115 simple", simple115, `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://code.google.com/p/exodus' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>`},
		{"XEP-0115 complex", complex115, `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://psi-im.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/></presence>`},
		{"XEP-0390 simple", simple390, `<presence><c xmlns='urn:xmpp:caps'><hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>kzBZbkqJ3ADrj7v08reD1qcWUwNGHaidNUgD7nHpiw8=</hash></c></presence>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, ok := parseCaps(mustParse(t, tc.pres))
			if !ok {
				t.Fatal("caps not parsed")
			}
			info := mustParse(t, tc.info)
			if !verify(ref, info) {
				t.Fatalf("the XEP's example does not verify (%+v)", ref)
			}
			info.Append(stanza.New(nsInfo, "feature").SetAttr("var", "urn:example:extra"))
			if verify(ref, info) {
				t.Fatal("a changed disco#info still verifies")
			}
		})
	}
}

func TestParseCapsRejects(t *testing.T) {
	for _, p := range []string{
		`<presence/>`,
		`<presence><c xmlns='http://jabber.org/protocol/caps' node='n' ver='legacy'/></presence>`,       // no hash: legacy
		`<presence><c xmlns='http://jabber.org/protocol/caps' hash='md5' node='n' ver='x'/></presence>`, // unknown function
		`<presence><c xmlns='urn:xmpp:caps'><hash xmlns='urn:xmpp:hashes:2' algo='md5'>x</hash></c></presence>`,
	} {
		if ref, ok := parseCaps(mustParse(t, p)); ok {
			t.Errorf("%s parsed as %+v", p, ref)
		}
	}
	// XEP-0390 wins over XEP-0115 when both are present.
	ref, ok := parseCaps(mustParse(t, `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/>`+
		`<c xmlns='urn:xmpp:caps'><hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>h</hash></c></presence>`))
	if !ok || !ref.v2 || ref.node != "urn:xmpp:caps#sha-256.h" {
		t.Errorf("both present: %+v", ref)
	}
}

func TestDiscoPartsRejects(t *testing.T) {
	for _, q := range []string{
		`<query xmlns='http://jabber.org/protocol/disco#info'><feature var='a'/><feature var='a'/></query>`,
		`<query xmlns='http://jabber.org/protocol/disco#info'><identity category='c' type='t'/><identity category='c' type='t'/></query>`,
		`<query xmlns='http://jabber.org/protocol/disco#info'><x xmlns='jabber:x:data' type='result'><field var='f'><value>v</value></field></x></query>`,
		`<query xmlns='http://jabber.org/protocol/disco#info'><x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'><value>v</value></field></x></query>`,
		`<query xmlns='http://jabber.org/protocol/disco#info'><other xmlns='urn:x'/></query>`,
	} {
		if _, _, _, err := discoParts(mustParse(t, q)); err == nil {
			t.Errorf("accepted %s", q)
		}
	}
}

func TestPrecondition(t *testing.T) {
	c := defaultConfig(true, 100)
	c.AccessModel, c.MaxItems = AccessOpen, 100
	ok := form{"FORM_TYPE": {formPubOpts}, "pubsub#access_model": {"open"}, "pubsub#max_items": {"max"}, "pubsub#persist_items": {"true"}}
	if err := c.precondition(ok, 100); err != nil {
		t.Fatalf("matching options refused: %v", err)
	}
	for _, f := range []form{
		{"pubsub#access_model": {"presence"}},
		{"pubsub#max_items": {"1"}},
		{"pubsub#persist_items": {"0"}},
		{"pubsub#send_last_published_item": {"never"}},
		{"pubsub#notify_retract": {"false"}},
		{"pubsub#access_model": {"bogus"}},
	} {
		err := c.precondition(f, 100)
		if err == nil || err.App == nil || err.App.Local != "precondition-not-met" || err.Condition != stanza.Conflict {
			t.Errorf("%v: %v", f, err)
		}
	}
}
