package mam_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestFailedCommitBounces: when the archive's commit fails (here
// the archive table is gone), a message from a client, pipelined through
// its session, is bounced to the sender with internal-server-error and
// never delivered.
func TestFailedCommitBounces(t *testing.T) {
	srv := start(t)
	alice, bob := online(t, srv, "alice"), online(t, srv, "bob")
	db, err := sql.Open("sqlite", filepath.Join(srv.Config.DataDir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("ALTER TABLE archive RENAME TO archive_gone"); err != nil {
		t.Fatal(err)
	}
	alice.Send(t, `<message to='bob@localhost' type='chat' id='lost'><body>not archived</body></message>`)
	e := alice.Expect(t, wait, "the bounce", func(st xmpptest.Stanza) bool { return st.Attr("id") == "lost" })
	if e.Attr("type") != "error" || !strings.Contains(e.Inner, "internal-server-error") {
		t.Fatalf("answer to the unarchivable message: %s", e.Inner)
	}
	settle(t, bob)
	for _, st := range drain(bob) {
		if strings.Contains(st.Inner, "not archived") {
			t.Fatal("a message whose commit failed was delivered")
		}
	}
}
