package muc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage/storagetest"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestPersistentRoomSurvivesRestart: on each storage engine, a persistent
// room keeps its configuration, subject, affiliations, registrations and
// occupant ids across a restart; a temporary one does not come back, and
// a destroyed persistent room is gone for good.
func TestPersistentRoomSurvivesRestart(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) { testPersistentRoom(t, driver) })
	}
}

// onEngine returns an option that puts the server's storage on a fresh
// database of driver (kept across restarts within the test).
func onEngine(t *testing.T, driver string, more func(*config.Config)) xmpptest.Option {
	st := storagetest.Config(t, driver)
	return func(c *config.Config) {
		c.DataDir, c.Storage = st.DataDir, st.Storage
		if more != nil {
			more(c)
		}
	}
}

func testPersistentRoom(t *testing.T, driver string) {
	onDir := onEngine(t, driver, nil)
	e := &env{srv: xmpptest.Start(t, onDir), users: map[string]*xmpptest.Client{}}
	alice, _ := e.add(t, "alice"), e.add(t, "bob")
	for _, r := range []string{"keep", "drop"} {
		create(t, alice, r, "A")
		res := configure(t, alice, r, map[string]string{
			"muc#roomconfig_persistentroom": "1", "muc#roomconfig_roomname": "Kept " + r, "muc#roomconfig_membersonly": "1",
		})
		if res.Attr("type") != "result" {
			t.Fatalf("configure: %s", res.Inner)
		}
		res = alice.IQ(t, `<iq type='set' id='mem' to='`+room(r)+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item jid='bob@localhost' affiliation='member'><reason>friend</reason></item></query></iq>`)
		if res.Attr("type") != "result" {
			t.Fatalf("member: %s", res.Inner)
		}
	}
	// bob registers with the kept room (a member already) and notes his
	// occupant id there.
	reg := e.users["bob"].IQ(t, `<iq type='set' id='r' to='`+room("keep")+`'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field>`+
		`<field var='muc#register_roomnick'><value>Bee</value></field></x></query></iq>`)
	if reg.Attr("type") != "result" {
		t.Fatalf("register: %s", reg.Inner)
	}
	idBefore := occupantID(t, selfPresence(t, join(t, e.users["bob"], "keep", "Bee", ""), occ("keep", "Bee")))
	alice.Send(t, `<message to='`+room("keep")+`' type='groupchat'><subject>Kept subject</subject></message>`)
	alice.Expect(t, wait, "subject", isMessage(occ("keep", "A"), "Kept subject"))
	res := alice.IQ(t, `<iq type='set' id='d' to='`+room("drop")+`'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>`)
	if res.Attr("type") != "result" {
		t.Fatalf("destroy: %s", res.Inner)
	}
	create(t, alice, "temp", "A")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	e = &env{srv: xmpptest.Start(t, onDir), users: map[string]*xmpptest.Client{}}
	alice = e.srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := e.srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	list := alice.IQ(t, `<iq type='get' id='sl' to='`+service+`'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)
	if !strings.Contains(list.Inner, room("keep")) || strings.Contains(list.Inner, room("drop")) || strings.Contains(list.Inner, room("temp")) {
		t.Fatalf("rooms after restart: %s", list.Inner)
	}
	got := join(t, bob, "keep", "Bee", "") // a member of a members-only room
	if last := got[len(got)-1]; !strings.Contains(last.Inner, "Kept subject") {
		t.Errorf("subject after restart: %s", last.Inner)
	}
	self := selfPresence(t, got, occ("keep", "Bee"))
	if hasStatus(self, 201) {
		t.Error("the stored room was created anew")
	}
	if id := occupantID(t, self); id != idBefore {
		t.Errorf("occupant id changed across the restart: %q, was %q", id, idBefore)
	}
	regd := bob.IQ(t, `<iq type='get' id='rq' to='`+room("keep")+`'><query xmlns='jabber:iq:register'/></iq>`)
	if !strings.Contains(regd.Inner, "<registered") || !strings.Contains(regd.Inner, "Bee") {
		t.Errorf("registration after restart: %s", regd.Inner)
	}
	form := alice.IQ(t, `<iq type='get' id='f' to='`+room("keep")+`'><query xmlns='http://jabber.org/protocol/muc#owner'/></iq>`)
	if !strings.Contains(form.Inner, "Kept keep") {
		t.Errorf("owner's form after restart: %s", form.Inner)
	}
	members := alice.IQ(t, `<iq type='get' id='m' to='`+room("keep")+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query></iq>`)
	if !strings.Contains(members.Inner, "bob@localhost") || !strings.Contains(members.Inner, "friend") {
		t.Errorf("members after restart: %s", members.Inner)
	}
	carol := e.add(t, "carol")
	carol.Send(t, `<presence to='`+occ("keep", "C")+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	carol.Expect(t, wait, "registration-required", isError("registration-required"))
}

// occupantID returns the XEP-0421 id of a presence.
func occupantID(t *testing.T, s xmpptest.Stanza) string {
	t.Helper()
	_, rest, ok := strings.Cut(s.Inner, "urn:xmpp:occupant-id:0")
	_, rest, ok2 := strings.Cut(rest, `id="`)
	id, _, ok3 := strings.Cut(rest, `"`)
	if !ok || !ok2 || !ok3 || id == "" {
		t.Fatalf("no occupant id in %s", s.Inner)
	}
	return id
}
