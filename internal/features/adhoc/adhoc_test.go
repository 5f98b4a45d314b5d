package adhoc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

const (
	wait    = 10 * time.Second
	nsCmd   = "http://jabber.org/protocol/commands"
	addUser = "http://jabber.org/protocol/admin#add-user"
)

func start(t *testing.T) (*xmpptest.Server, *xmpptest.Client, *xmpptest.Client) {
	t.Helper()
	srv := xmpptest.Start(t, func(c *config.Config) { c.Admins = []string{"root@localhost"} })
	srv.AddUser(t, "root@localhost", "pw")
	srv.AddUser(t, "joe@localhost", "pw")
	return srv, srv.Dial(t, "root@localhost", "pw", xmpptest.DialOptions{}), srv.Dial(t, "joe@localhost", "pw", xmpptest.DialOptions{})
}

func isErr(s xmpptest.Stanza, cond string) bool {
	return s.Attr("type") == "error" && strings.Contains(s.Inner, "<"+cond)
}

// attr returns the value of the first name="..." in s after marker.
func attr(t *testing.T, s, marker, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(s, marker)
	_, rest, ok2 := strings.Cut(rest, name+`="`)
	v, _, ok3 := strings.Cut(rest, `"`)
	if !ok || !ok2 || !ok3 {
		t.Fatalf("no %s after %s in %s", name, marker, s)
	}
	return v
}

func execute(c *xmpptest.Client, t *testing.T, node string) xmpptest.Stanza {
	return c.IQ(t, `<iq type='set' id='x' to='localhost'><command xmlns='`+nsCmd+`' node='`+node+`' action='execute'/></iq>`)
}

// TestAddUserByAdmin: an admin finds the commands by disco, runs
// add-user through its form in two stages (XEP-0133 §4.1), and the new
// account can log in; a wrong sessionid and an unknown action get the
// XEP-0050 errors; cancel ends a session.
func TestAddUserByAdmin(t *testing.T) {
	srv, root, _ := start(t)
	items := root.IQ(t, `<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items' node='`+nsCmd+`'/></iq>`)
	if !strings.Contains(items.Inner, addUser) || !strings.Contains(items.Inner, "#announce") {
		t.Fatalf("commands listed to the admin: %s", items.Inner)
	}
	info := root.IQ(t, `<iq type='get' id='di' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='`+addUser+`'/></iq>`)
	if !strings.Contains(info.Inner, `category="automation"`) || !strings.Contains(info.Inner, `type="command-node"`) {
		t.Errorf("command node info: %s", info.Inner)
	}
	first := execute(root, t, addUser)
	if first.Attr("type") != "result" || !strings.Contains(first.Inner, `status="executing"`) || !strings.Contains(first.Inner, "password-verify") {
		t.Fatalf("first stage: %s", first.Inner)
	}
	sid := attr(t, first.Inner, "<command", "sessionid")

	bad := root.IQ(t, `<iq type='set' id='b' to='localhost'><command xmlns='`+nsCmd+`' node='`+addUser+`' sessionid='nope' action='complete'/></iq>`)
	if !isErr(bad, "bad-request") || !strings.Contains(bad.Inner, "bad-sessionid") {
		t.Errorf("wrong sessionid: %s", bad.Inner)
	}
	bad = root.IQ(t, `<iq type='set' id='b2' to='localhost'><command xmlns='`+nsCmd+`' node='`+addUser+`' sessionid='`+sid+`' action='jump'/></iq>`)
	if !isErr(bad, "bad-request") || !strings.Contains(bad.Inner, "malformed-action") {
		t.Errorf("unknown action: %s", bad.Inner)
	}
	submit := func(sid, pw2 string) xmpptest.Stanza {
		return root.IQ(t, `<iq type='set' id='s' to='localhost'><command xmlns='`+nsCmd+`' node='`+addUser+`' sessionid='`+sid+`' action='complete'>`+
			`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/admin</value></field>`+
			`<field var='accountjid'><value>newbie@localhost</value></field><field var='password'><value>s3cret pw</value></field>`+
			`<field var='password-verify'><value>`+pw2+`</value></field></x></command></iq>`)
	}
	if res := submit(sid, "typo"); !isErr(res, "not-acceptable") {
		t.Errorf("differing passwords: %s", res.Inner)
	}
	done := submit(sid, "s3cret pw") // the session survived the refused submission
	if done.Attr("type") != "result" || !strings.Contains(done.Inner, `status="completed"`) {
		t.Fatalf("completion: %s", done.Inner)
	}
	if again := submit(sid, "s3cret pw"); !strings.Contains(again.Inner, "bad-sessionid") {
		t.Errorf("a completed session is still open: %s", again.Inner)
	}
	if ok, err := srv.Accounts().Exists(context.Background(), jid.MustParse("newbie@localhost")); err != nil || !ok {
		t.Fatalf("account not created: %v %v", ok, err)
	}
	srv.Dial(t, "newbie@localhost", "s3cret pw", xmpptest.DialOptions{})

	// Cancel.
	sid = attr(t, execute(root, t, addUser).Inner, "<command", "sessionid")
	c := root.IQ(t, `<iq type='set' id='c' to='localhost'><command xmlns='`+nsCmd+`' node='`+addUser+`' sessionid='`+sid+`' action='cancel'/></iq>`)
	if !strings.Contains(c.Inner, `status="canceled"`) {
		t.Errorf("cancel: %s", c.Inner)
	}
}

// TestAdminCommands: counts and lists of users, announce, end session
// and delete user, each through its form where it has one.
func TestAdminCommands(t *testing.T) {
	srv, root, joe := start(t)
	run := func(node, fields string) xmpptest.Stanza {
		t.Helper()
		res := execute(root, t, node)
		if strings.Contains(res.Inner, `status="completed"`) {
			return res
		}
		sid := attr(t, res.Inner, "<command", "sessionid")
		return root.IQ(t, `<iq type='set' id='s' to='localhost'><command xmlns='`+nsCmd+`' node='`+node+`' sessionid='`+sid+`'>`+
			`<x xmlns='jabber:x:data' type='submit'>`+fields+`</x></command></iq>`)
	}
	if res := run("http://jabber.org/protocol/admin#get-registered-users-num", ""); !strings.Contains(res.Inner, ">2</value>") {
		t.Errorf("registered users: %s", res.Inner)
	}
	if res := run("http://jabber.org/protocol/admin#get-online-users-list", ""); !strings.Contains(res.Inner, ">joe@localhost</value>") ||
		!strings.Contains(res.Inner, ">root@localhost</value>") {
		t.Errorf("online users: %s", res.Inner)
	}
	stats := run("http://jabber.org/protocol/admin#user-stats", `<field var='accountjid'><value>joe@localhost</value></field>`)
	if !strings.Contains(stats.Inner, ">"+joe.JID.String()+"</value>") {
		t.Errorf("user stats: %s", stats.Inner)
	}
	res := run("http://jabber.org/protocol/admin#announce", `<field var='subject'><value>Maintenance</value></field><field var='announcement'><value>Down at noon</value></field>`)
	if !strings.Contains(res.Inner, `status="completed"`) {
		t.Fatalf("announce: %s", res.Inner)
	}
	joe.Expect(t, wait, "announcement", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && s.Attr("from") == "localhost" && strings.Contains(s.Inner, "Down at noon")
	})
	res = run("http://jabber.org/protocol/admin#end-user-session", `<field var='accountjids'><value>joe@localhost</value></field>`)
	if !strings.Contains(res.Inner, "1 session(s) ended") {
		t.Errorf("end session: %s", res.Inner)
	}
	joe.Done(t, wait) // fails the test if the session stays open
	res = run("http://jabber.org/protocol/admin#delete-user", `<field var='accountjids'><value>joe@localhost</value></field>`)
	if !strings.Contains(res.Inner, `status="completed"`) {
		t.Fatalf("delete: %s", res.Inner)
	}
	if ok, _ := srv.Accounts().Exists(context.Background(), jid.MustParse("joe@localhost")); ok {
		t.Error("joe still exists")
	}
	if _, err := srv.DialErr(t, "joe@localhost", "pw", xmpptest.DialOptions{}); err == nil {
		t.Error("the deleted account logged in")
	}
}

// TestNonAdminRefused: a user who is not an admin sees no admin commands
// and running one gets forbidden.
func TestNonAdminRefused(t *testing.T) {
	_, _, joe := start(t)
	items := joe.IQ(t, `<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items' node='`+nsCmd+`'/></iq>`)
	if items.Attr("type") != "result" || strings.Contains(items.Inner, "admin#") {
		t.Errorf("commands listed to a non-admin: %s", items.Inner)
	}
	if res := execute(joe, t, addUser); !isErr(res, "forbidden") {
		t.Fatalf("non-admin run: %s", res.Inner)
	}
	if res := execute(joe, t, "urn:nope"); !isErr(res, "item-not-found") {
		t.Errorf("unknown command: %s", res.Inner)
	}
}

// TestMessageOfTheDay: an admin sets the message of the day (XEP-0133
// §4.24); a session sending its initial presence gets it; edit shows the
// current text; after delete nobody gets it.
func TestMessageOfTheDay(t *testing.T) {
	srv, root, _ := start(t)
	sid := attr(t, execute(root, t, "http://jabber.org/protocol/admin#set-motd").Inner, "<command", "sessionid")
	res := root.IQ(t, `<iq type='set' id='m' to='localhost'><command xmlns='`+nsCmd+`' node='http://jabber.org/protocol/admin#set-motd' sessionid='`+sid+`'>`+
		`<x xmlns='jabber:x:data' type='submit'><field var='motd'><value>Welcome</value><value>to Parley</value></field></x></command></iq>`)
	if !strings.Contains(res.Inner, `status="completed"`) {
		t.Fatalf("set-motd: %s", res.Inner)
	}
	joe := srv.Dial(t, "joe@localhost", "pw", xmpptest.DialOptions{})
	joe.Send(t, `<presence/>`)
	joe.Expect(t, wait, "message of the day", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && s.Attr("from") == "localhost" && strings.Contains(s.Inner, "Welcome\nto Parley")
	})
	edit := execute(root, t, "http://jabber.org/protocol/admin#edit-motd")
	if !strings.Contains(edit.Inner, ">Welcome</value>") {
		t.Errorf("edit form lacks the current text: %s", edit.Inner)
	}
	if res := execute(root, t, "http://jabber.org/protocol/admin#delete-motd"); !strings.Contains(res.Inner, `status="completed"`) {
		t.Fatalf("delete-motd: %s", res.Inner)
	}
	joe2 := srv.Dial(t, "joe@localhost", "pw", xmpptest.DialOptions{})
	joe2.Send(t, `<presence/>`)
	joe2.ExpectNone(t, 300*time.Millisecond, "message of the day", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && strings.Contains(s.Inner, "Welcome")
	})
}
