package mam_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestFailedCommitBounces: when the archive's commit fails (here
// the archive table is gone), a message from a client, pipelined through
// its session, is bounced to the sender with internal-server-error and
// never delivered. Resent with the same origin-id (XEP-0359) once the
// archive works again, it is delivered: the origin-id dedupe remembers
// only messages that were handled.
func TestFailedCommitBounces(t *testing.T) {
	srv := start(t)
	alice, bob := online(t, srv, "alice"), online(t, srv, "bob")
	db, err := sql.Open("sqlite", filepath.Join(srv.Config.DataDir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("ALTER TABLE archive_messages RENAME TO archive_gone"); err != nil {
		t.Fatal(err)
	}
	const msg = `<message to='bob@localhost' type='chat' id='%s'><body>not archived</body><origin-id xmlns='urn:xmpp:sid:0' id='o-1'/></message>`
	alice.Send(t, fmt.Sprintf(msg, "lost"))
	e := alice.Expect(t, wait, "the bounce", func(st xmpptest.Stanza) bool { return st.Attr("id") == "lost" })
	if e.Attr("type") != "error" || !strings.Contains(e.Inner, "internal-server-error") {
		t.Fatalf("answer to the unarchivable message: %s", e.Inner)
	}
	xmpptest.Settle(t, bob)
	for _, st := range bob.Drain() {
		if strings.Contains(st.Inner, "not archived") {
			t.Fatal("a message whose commit failed was delivered")
		}
	}
	if _, err := db.Exec("ALTER TABLE archive_gone RENAME TO archive_messages"); err != nil {
		t.Fatal(err)
	}
	alice.Send(t, fmt.Sprintf(msg, "resent"))
	bob.Expect(t, wait, "the resent message", func(st xmpptest.Stanza) bool { return strings.Contains(st.Inner, "not archived") })
}
