//go:build unix

package pubsub_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/xmpptest"
)

// BenchmarkPEPFanout200: one publish to a PEP node fanned out to 200
// contacts whose caps carry node+notify (XEP-0163 §4.3.1), each contact
// on its own TLS connection reading its stream. Reported: notifications
// delivered per second and process CPU per notification (server and the
// 200 light readers together: an upper bound for the server's share).
func BenchmarkPEPFanout200(b *testing.B) {
	const contacts = 200
	dir := b.TempDir()
	srv := xmpptest.Start(b, func(c *config.Config) {
		c.DataDir = dir
		c.Auth.ScramIterations = 4096
		c.Limits.MaxSessionsPerUser = 10
	})
	alice := srv.AddUser(b, "alice@localhost", "pw")
	var users []jid.JID
	for i := range contacts {
		users = append(users, srv.AddUser(b, fmt.Sprintf("c%d@localhost", i), "pw"))
	}
	befriendAll(b, srv, alice, users)

	features := []string{"http://jabber.org/protocol/caps", nsNick + "+notify"}
	ver := capsVer(features)
	tlsCfg := srv.TLSConfig(b, "localhost")
	var delivered atomic.Int64
	for i, u := range users {
		r := srv.Raw(b)
		r.Login(tlsCfg, u.Local(), "localhost", "pw", "bench")
		r.Write(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='` + capsNode + `' ver='` + ver + `'/></presence>`)
		if i == 0 { // the first one is asked for its disco#info
			q := r.ReadUntil("</iq>", 5*time.Second)
			id := between(q, "id='", "'")
			if id == "" {
				id = between(q, `id="`, `"`)
			}
			var f strings.Builder
			for _, x := range features {
				f.WriteString(`<feature var='` + x + `'/>`)
			}
			r.Write(`<iq type='result' id='` + id + `' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='` + capsNode + `#` + ver +
				`'><identity category='client' type='pc' name='parley-test'/>` + f.String() + `</query></iq>`)
		}
		r.Write(`<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>`)
		if out, err := r.ReadUntilAny([]string{"id='sync'", `id="sync"`}, 5*time.Second); err != nil {
			b.Fatalf("sync: %v: %s", err, out)
		}
		go countEvents(r.Conn, &delivered)
	}
	pub := srv.Raw(b)
	pub.Login(tlsCfg, "alice", "localhost", "pw", "pub")
	go countEvents(pub.Conn, new(atomic.Int64))

	b.ResetTimer()
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	for i := range b.N {
		pub.Write(fmt.Sprintf(`<iq type='set' id='p%d'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='%s'><item id='current'><nick xmlns='%s'>n%d</nick></item></publish></pubsub></iq>`, i, nsNick, nsNick, i))
	}
	want := int64(b.N * contacts)
	deadline := time.Now().Add(time.Minute)
	for delivered.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	b.StopTimer()
	if got := delivered.Load(); got < want {
		b.Fatalf("%d of %d notifications delivered", got, want)
	}
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	b.ReportMetric(float64(want)/elapsed.Seconds(), "notifications/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(want), "cpu-µs/notification")
}

// countEvents counts the PubSub event messages arriving on c.
func countEvents(c interface{ Read([]byte) (int, error) }, n *atomic.Int64) {
	marker := []byte("pubsub#event")
	buf := make([]byte, 64<<10)
	var tail []byte
	for {
		k, err := c.Read(buf)
		if k > 0 {
			data := append(tail, buf[:k]...)
			n.Add(int64(bytes.Count(data, marker)))
			if len(data) >= len(marker)-1 {
				tail = append(tail[:0], data[len(data)-(len(marker)-1):]...)
			} else {
				tail = append(tail[:0], data...)
			}
		}
		if err != nil {
			return
		}
	}
}

// befriendAll gives owner a mutual subscription with each of users,
// written to the roster store before anyone logs in.
func befriendAll(b *testing.B, srv *xmpptest.Server, owner jid.JID, users []jid.JID) {
	cfg := srv.Config
	db, err := storage.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	err = roster.NewStore(db).Update(context.Background(), func(tx *roster.Tx) error {
		for _, u := range users {
			if err := tx.PutItem(owner, &roster.Item{JID: u, State: roster.State{Sub: roster.SubBoth}}); err != nil {
				return err
			}
			if err := tx.PutItem(u, &roster.Item{JID: owner, State: roster.State{Sub: roster.SubBoth}}); err != nil {
				return err
			}
			if _, err := tx.Bump(u); err != nil {
				return err
			}
		}
		_, err := tx.Bump(owner)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}
