package portable

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/server"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

// BenchmarkImport imports 100 accounts with SCRAM credentials, 10 roster
// items, a vCard and 5 offline messages each into a fresh SQLite
// database (one op = the whole file).
func BenchmarkImport(b *testing.B) {
	const users = 100
	var sb strings.Builder
	sb.WriteString(head + "<host jid='example.org'>")
	for i := range users {
		fmt.Fprintf(&sb, "<user name='u%d'><scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>4096</iter-count>"+
			"<salt>QSXCR+Q6sek8bf92</salt><server-key>D+CSWLOshSulAsxiupA+qs2/fTE=</server-key><stored-key>6dlGYMOdZcOPutkcNY8U2g7vK9Y=</stored-key></scram-credentials>"+
			"<query xmlns='jabber:iq:roster'>", i)
		for k := range 10 {
			fmt.Fprintf(&sb, "<item jid='c%d@remote.example' name='Contact %d' subscription='both'><group>G</group></item>", k, k)
		}
		sb.WriteString("</query><vCard xmlns='vcard-temp'><FN>User</FN></vCard><offline-messages>")
		for k := range 5 {
			fmt.Fprintf(&sb, "<message xmlns='jabber:client' from='c%d@remote.example/r' type='chat'><body>hello %d</body><delay xmlns='urn:xmpp:delay' stamp='2024-01-02T03:04:05Z'/></message>", k, k)
		}
		sb.WriteString("</offline-messages></user>")
	}
	sb.WriteString("</host></server-data>")
	path := writeFile(b, b.TempDir(), "bench.xml", []byte(sb.String()))
	b.SetBytes(int64(sb.Len()))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		db := storagetest.Open(b, "sqlite")
		st := NewStores(db, testIterations, server.UserData(db)...)
		b.StartTimer()
		rep, err := Import(context.Background(), st, []string{filepath.Clean(path)}, ImportOptions{Domains: []string{"example.org"}})
		if err != nil || len(rep.Imported) != users {
			b.Fatalf("%v, %d imported", err, len(rep.Imported))
		}
	}
}
