package vcard_test

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

const wait = 10 * time.Second

const aliceCard = `<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><N><FAMILY>Liddell</FAMILY><GIVEN>Alice</GIVEN></N><NICKNAME>al &amp; co</NICKNAME></vCard>`

func TestVCard(t *testing.T) {
	srv := xmpptest.Start(t)
	for _, u := range []string{"alice@localhost", "bob@localhost", "carol@localhost"} {
		srv.AddUser(t, u, "pw")
	}
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	big := `<vCard xmlns='vcard-temp'><DESC>` + strings.Repeat("x", 65<<10) + `</DESC></vCard>`
	steps := []struct {
		name     string
		c        *xmpptest.Client
		iq       string
		wantType string
		want     []string // substrings of the response
	}{
		{"own, none yet: empty vCard", alice, `<iq type='get' id='v'><vCard xmlns='vcard-temp'/></iq>`, "result", []string{`<vCard xmlns="vcard-temp"`}},
		{"someone else's, none: item-not-found", bob, `<iq type='get' id='v' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`, "error", []string{"item-not-found"}},
		{"set own", alice, `<iq type='set' id='v'>` + aliceCard + `</iq>`, "result", nil},
		{"get own", alice, `<iq type='get' id='v'><vCard xmlns='vcard-temp'/></iq>`, "result", []string{"Alice Liddell", "<FAMILY", "al &amp; co"}},
		{"get own by bare JID", alice, `<iq type='get' id='v' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`, "result", []string{"Alice Liddell"}},
		{"get someone else's", bob, `<iq type='get' id='v' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`, "result", []string{"Alice Liddell", "al &amp; co"}},
		{"set someone else's: forbidden", bob, `<iq type='set' id='v' to='alice@localhost'><vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>`, "error", []string{"forbidden"}},
		{"still alice's", bob, `<iq type='get' id='v' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`, "result", []string{"Alice Liddell"}},
		{"unknown user: service-unavailable", bob, `<iq type='get' id='v' to='nobody@localhost'><vCard xmlns='vcard-temp'/></iq>`, "error", []string{"service-unavailable"}},
		{"too big: not-acceptable", alice, `<iq type='set' id='v'>` + big + `</iq>`, "error", []string{"not-acceptable"}},
		{"unchanged after refusal", alice, `<iq type='get' id='v'><vCard xmlns='vcard-temp'/></iq>`, "result", []string{"Alice Liddell"}},
		{"server vCard is not an account's", bob, `<iq type='get' id='v' to='localhost'><vCard xmlns='vcard-temp'/></iq>`, "error", []string{"service-unavailable"}},
		{"clear own", alice, `<iq type='set' id='v'><vCard xmlns='vcard-temp'/></iq>`, "result", nil},
		{"cleared", bob, `<iq type='get' id='v' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`, "error", []string{"item-not-found"}},
		{"disco feature", bob, `<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "result", []string{`"vcard-temp"`}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := st.c.IQ(t, st.iq)
			if res.Attr("type") != st.wantType {
				t.Fatalf("type %s, want %s: %s", res.Attr("type"), st.wantType, res.Inner)
			}
			for _, w := range st.want {
				if !strings.Contains(res.Inner, w) {
					t.Errorf("response lacks %q: %s", w, res.Inner)
				}
			}
		})
	}
}

// TestAvatar is XEP-0153 end to end: the avatar stored in the vCard comes
// back byte for byte (its SHA-1 matches the hash advertised in presence),
// and the vcard-temp:x:update element in presence reaches contacts as sent.
func TestAvatar(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})

	image := make([]byte, 6000)
	for i := range image {
		image[i] = byte(i * 7)
	}
	sum := sha1.Sum(image)
	hash := hex.EncodeToString(sum[:])
	b64 := base64.StdEncoding.EncodeToString(image)
	var wrapped strings.Builder // lines of 76 characters (RFC 2045)
	for len(b64) > 76 {
		wrapped.WriteString(b64[:76] + "\n")
		b64 = b64[76:]
	}
	wrapped.WriteString(b64)
	res := alice.IQ(t, `<iq type='set' id='a'><vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>`+wrapped.String()+`</BINVAL></PHOTO></vCard></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("publish: %s", res.Inner)
	}
	alice.Send(t, `<presence><x xmlns='vcard-temp:x:update'><photo>`+hash+`</photo></x></presence>`)
	alice.Send(t, `<presence to='`+bob.JID.String()+`'><x xmlns='vcard-temp:x:update'><photo>`+hash+`</photo></x></presence>`)
	p := bob.Expect(t, wait, "presence with avatar hash", func(s xmpptest.Stanza) bool { return s.XMLName.Local == "presence" })
	if !strings.Contains(p.Inner, "vcard-temp:x:update") || !strings.Contains(p.Inner, hash) {
		t.Fatalf("presence lost the update element: %s", p.Inner)
	}
	card := bob.IQ(t, `<iq type='get' id='g' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`)
	m := regexp.MustCompile(`(?s)<BINVAL[^>]*>(.*?)</BINVAL>`).FindStringSubmatch(card.Inner)
	if m == nil {
		t.Fatalf("no BINVAL in %s", card.Inner)
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(m[1]), ""))
	if err != nil {
		t.Fatal(err)
	}
	if got := sha1.Sum(data); hex.EncodeToString(got[:]) != hash {
		t.Fatalf("avatar hash %x, advertised %s", got, hash)
	}
}
