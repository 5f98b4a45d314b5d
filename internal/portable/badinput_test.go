package portable

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/jid"
)

const head = "<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'>"

func doc(hosts ...string) string { return head + strings.Join(hosts, "") + "</server-data>" }

func host(name string, users ...string) string {
	return "<host jid='" + name + "'>" + strings.Join(users, "") + "</host>"
}

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<server-data xmlns='urn:xmpp:pie:0'><host jid='example.org'><user name='lol' password='&lol9;'/></host></server-data>`

// TestImportBadInput: files that cannot be read import nothing and say
// why; accounts that cannot be imported are skipped with the reason, and
// the rest of the file is imported.
func TestImportBadInput(t *testing.T) {
	good := stores(t, "sqlite")
	populate(t, good)
	export := string(export(t, good, "example.org"))
	tests := []struct {
		name     string
		files    map[string]string // the first is imported
		limits   Limits
		existing []string // accounts created before the import
		wantErr  string   // the import fails, nothing written
		imported []string
		skipped  map[string]string // account (or prefix) → reason substring
		notes    []string
	}{
		{name: "not XML", files: map[string]string{"a.xml": "hello, this is a CSV file\n1,2,3\n"}, wantErr: "not a XEP-0227 file"},
		{name: "empty", files: map[string]string{"a.xml": ""}, wantErr: "empty or not XML"},
		{name: "binary", files: map[string]string{"a.xml": "\x00\x01\x02<server-data"}, wantErr: "not well-formed"},
		{name: "billion laughs DTD", files: map[string]string{"a.xml": billionLaughs}, wantErr: "DTD"},
		{name: "wrong root", files: map[string]string{"a.xml": "<roster xmlns='jabber:iq:roster'/>"}, wantErr: "root element is <roster"},
		{name: "truncated", files: map[string]string{"a.xml": export[:len(export)*2/3]}, wantErr: "truncated"},
		{name: "undefined entity", files: map[string]string{"a.xml": doc(host("example.org", "<user name='a' password='&pw;'/>"))}, wantErr: "not well-formed"},
		{name: "text after the document", files: map[string]string{"a.xml": doc() + "junk"}, wantErr: "after the root element"},
		{name: "include outside the directory", files: map[string]string{
			"a.xml": head + "<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='../etc/passwd'/></server-data>",
		}, wantErr: "outside"},
		{name: "include of a missing file", files: map[string]string{
			"a.xml": head + "<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='gone.xml'/></server-data>",
		}, wantErr: "gone.xml"},
		{name: "truncated include", files: map[string]string{
			"a.xml": head + "<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='h.xml'/></server-data>",
			"h.xml": "<host xmlns='urn:xmpp:pie:0' jid='example.org'><user name='a' password='x'>",
		}, wantErr: "truncated"},
		{
			name:     "duplicate users",
			files:    map[string]string{"a.xml": doc(host("example.org", "<user name='dup' password='one'/>", "<user name='other' password='x'/>", "<user name='DUP' password='two'/>"))},
			imported: []string{"dup@example.org", "other@example.org"},
			skipped:  map[string]string{"dup@example.org (a.xml": "duplicate"},
		},
		{
			name: "invalid JIDs",
			files: map[string]string{"a.xml": doc(
				host("example.org",
					"<user name='a@b' password='x'/>",
					"<user name='' password='x'/>",
					"<user name='ok' password='x'><query xmlns='jabber:iq:roster'><item jid='not a@@jid' subscription='both'/><item jid='fine@remote.example'/></query>"+
						"<offline-messages><message xmlns='jabber:client' from='@@' to='ok@example.org'><body>x</body></message></offline-messages></user>"),
				host("bad host!", "<user name='z' password='x'/>"),
			)},
			imported: []string{"ok@example.org"},
			skipped:  map[string]string{"a@b@example.org": "not a valid account JID", "@example.org": "not a valid account JID", "z@bad host!": "not a valid account JID"},
			notes:    []string{`roster item "not a@@jid" left out`, `offline message from "@@" left out`, `host "bad host!" is not a valid domain`},
		},
		{
			name: "bad push registrations",
			files: map[string]string{"a.xml": doc(host("example.org", "<user name='p' password='x'>"+
				"<enable xmlns='urn:xmpp:push:0' node='n'/><enable xmlns='urn:xmpp:push:0' jid='push.example.org' node='ok'/>"+
				"<device xmlns='urn:xmpp:parley:pie:push-device:0' node='d1' provider='sms' token='t' created='2023-11-14T22:13:22Z' secret-sha256='BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc='/>"+
				"<device xmlns='urn:xmpp:parley:pie:push-device:0' node='d2' provider='fcm' token='t' created='yesterday' secret-sha256='BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc='/>"+
				"<device xmlns='urn:xmpp:parley:pie:push-device:0' node='d3' provider='fcm' token='t' created='2023-11-14T22:13:22Z' secret-sha256='short'/>"+
				"</user>"))},
			imported: []string{"p@example.org"},
			notes: []string{`push registration left out: needs a valid jid and a node`, `push device "d1" left out: provider "sms"`,
				`push device "d2" left out: bad created`, `push device "d3" left out: secret-sha256`},
		},
		{
			name:     "host not served",
			files:    map[string]string{"a.xml": doc(host("elsewhere.example", "<user name='a' password='x'/>"), host("example.org", "<user name='b' password='x'/>"))},
			imported: []string{"b@example.org"},
			skipped:  map[string]string{"a@elsewhere.example": "host not served"},
			notes:    []string{"host elsewhere.example is not served"},
		},
		{
			name:    "no credentials",
			files:   map[string]string{"a.xml": doc(host("example.org", "<user name='nopw'/>", "<user name='badscram'><scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>4096</iter-count><salt>AAAA</salt><server-key>AAAA</server-key><stored-key>AAAA</stored-key></scram-credentials></user>"))},
			skipped: map[string]string{"nopw@example.org": "neither a password nor usable SCRAM credentials", "badscram@example.org": "neither"},
			notes:   []string{"keys of 3 and 3 bytes, want 20"},
		},
		{
			name:     "account exists",
			files:    map[string]string{"a.xml": doc(host("example.org", "<user name='taken' password='new'><vCard xmlns='vcard-temp'><FN>New</FN></vCard></user>"))},
			existing: []string{"taken@example.org"},
			skipped:  map[string]string{"taken@example.org": "exists already"},
		},
		{
			name:     "too large",
			files:    map[string]string{"a.xml": doc(host("example.org", "<user name='big' password='x'><vCard xmlns='vcard-temp'><PHOTO>"+strings.Repeat("A", 4000)+"</PHOTO></vCard></user>", "<user name='small' password='x'/>"))},
			limits:   Limits{MaxUserBytes: 1000},
			imported: []string{"small@example.org"},
			skipped:  map[string]string{"big@example.org": "larger than the limit"},
		},
		{
			name: "unsupported data and privacy lists",
			files: map[string]string{"a.xml": doc(host("example.org", "<user name='p' password='x'>"+
				"<unknown xmlns='urn:example:unknown'/>"+
				"<query xmlns='jabber:iq:privacy'><default name='d'/><list name='d'><item type='jid' value='spam@remote.example' action='deny' order='1'/><item type='group' value='G' action='deny' order='2'/></list><list name='other'/></query>"+
				"</user>"))},
			imported: []string{"p@example.org"},
			notes:    []string{"<unknown xmlns='urn:example:unknown'> left out", `privacy rule (type "group"`, `privacy list "other" left out`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := stores(t, "sqlite")
			for _, e := range tt.existing {
				must(t, st.Accounts.Create(ctx, jid.MustParse(e), "old"))
			}
			dir := t.TempDir()
			var main string
			for name, data := range tt.files {
				p := writeFile(t, filepath.Join(dir, "export"), name, []byte(data))
				if name == "a.xml" {
					main = p
				}
			}
			rep, err := Import(ctx, st, []string{main}, ImportOptions{Domains: []string{"example.org"}, Limits: tt.limits})
			all, _ := st.Accounts.List(ctx, "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "nothing was imported") {
					t.Fatalf("Import = %v, want an error about %q", err, tt.wantErr)
				}
				if len(all) != len(tt.existing) {
					t.Errorf("%d accounts after a failed import", len(all))
				}
				t.Logf("error: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			rep.Write(&out)
			t.Logf("report:\n%s", out.String())
			if strings.Join(rep.Imported, " ") != strings.Join(tt.imported, " ") {
				t.Errorf("imported %v, want %v", rep.Imported, tt.imported)
			}
			if len(rep.Skipped) != len(tt.skipped) {
				t.Errorf("skipped %v, want %d", rep.Skipped, len(tt.skipped))
			}
			for what, why := range tt.skipped {
				found := false
				for _, s := range rep.Skipped {
					found = found || (strings.HasPrefix(s.What, what) && strings.Contains(s.Why, why))
				}
				if !found {
					t.Errorf("no skip of %s because %q in %v", what, why, rep.Skipped)
				}
			}
			for _, n := range tt.notes {
				if !strings.Contains(out.String(), n) {
					t.Errorf("report lacks %q", n)
				}
			}
			if len(all) != len(tt.imported)+len(tt.existing) {
				t.Errorf("%d accounts in the database, want %d", len(all), len(tt.imported)+len(tt.existing))
			}
		})
	}
}

// TestImportAtomicPerAccount makes the database refuse the vCard of one
// account in the middle of writing it: that account is skipped and
// nothing of it (account, credentials, roster) remains; the next account
// is imported.
func TestImportAtomicPerAccount(t *testing.T) {
	ctx := context.Background()
	st := stores(t, "sqlite")
	_, err := st.DB.SQL().ExecContext(ctx, `CREATE TRIGGER refuse_vcard BEFORE INSERT ON user_records
		WHEN NEW.kind = 'vcard' AND NEW.username = 'broken'
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)
	must(t, err)
	user := func(name string) string {
		return "<user name='" + name + "' password='pw'><query xmlns='jabber:iq:roster'><item jid='x@remote.example' subscription='both'/></query>" +
			"<vCard xmlns='vcard-temp'><FN>" + name + "</FN></vCard>" +
			"<offline-messages><message xmlns='jabber:client' from='x@remote.example'><body>hi</body></message></offline-messages></user>"
	}
	path := writeFile(t, t.TempDir(), "a.xml", []byte(doc(host("example.org", user("broken"), user("fine")))))
	rep, err := Import(ctx, st, []string{path}, ImportOptions{Domains: []string{"example.org"}})
	must(t, err)
	if len(rep.Imported) != 1 || rep.Imported[0] != "fine@example.org" || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Why, "injected failure") {
		t.Fatalf("imported %v, skipped %v", rep.Imported, rep.Skipped)
	}
	for _, table := range []string{"accounts", "scram_credentials", "roster_items", "roster_versions", "user_queues", "user_records"} {
		var n int
		must(t, st.DB.SQL().QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE username = 'broken'").Scan(&n))
		if n != 0 {
			t.Errorf("%d rows of the skipped account left in %s", n, table)
		}
	}
}

// TestImportDryRun writes nothing.
func TestImportDryRun(t *testing.T) {
	ctx := context.Background()
	st := stores(t, "sqlite")
	path := writeFile(t, t.TempDir(), "a.xml", []byte(doc(host("example.org", "<user name='a' password='x'/>"))))
	rep, err := Import(ctx, st, []string{path}, ImportOptions{Domains: []string{"example.org"}, DryRun: true})
	must(t, err)
	if len(rep.Imported) != 1 {
		t.Errorf("dry run reports %v", rep.Imported)
	}
	if all, _ := st.Accounts.List(ctx, ""); len(all) != 0 {
		t.Errorf("dry run wrote %d accounts", len(all))
	}
	_ = os.Remove(path)
}
