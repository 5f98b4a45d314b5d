//go:build unix

package pubsub_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/features/pubsub"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/xmpptest"
)

const (
	nsDevices = "eu.siacs.conversations.axolotl.devicelist"
	nsBundles = "eu.siacs.conversations.axolotl.bundles:"
)

// BenchmarkLoginStormOMEMO: users, each with 10 contacts and OMEMO-sized
// PEP nodes (a device list, and a bundle of about 4 KB), log in four at
// a time: TLS, SASL PLAIN, bind, initial presence with caps asking for
// device list notifications, until the user has the last device list of
// each of its 10 contacts and its own. "no-pep" is the same login with
// [pubsub] off (today's presence scenario) for comparison.
func BenchmarkLoginStormOMEMO(b *testing.B) {
	for _, pep := range []bool{true, false} {
		name := "pep"
		if !pep {
			name = "no-pep"
		}
		b.Run(name, func(b *testing.B) { loginStorm(b, pep) })
	}
}

func loginStorm(b *testing.B, pep bool) {
	const users, contacts, workers = 50, 10, 4
	srv := xmpptest.Start(b, func(c *config.Config) {
		c.PubSub.Enabled = pep
		c.Limits.MaxSessionsPerUser = 1000
	})
	var all []jid.JID
	for i := range users {
		all = append(all, srv.AddUser(b, fmt.Sprintf("u%d@localhost", i), "pw"))
	}
	features := []string{"http://jabber.org/protocol/caps", nsDevices + "+notify"}
	seedOMEMO(b, srv, all, contacts, features)
	ver := capsVer(features)
	tlsCfg := srv.TLSConfig(b, "localhost")
	var next atomic.Int64
	login := func() {
		u := all[int(next.Add(1))%users]
		r := srv.Raw(b)
		r.Login(tlsCfg, u.Local(), "localhost", "pw", "")
		r.Write(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='` + capsNode + `' ver='` + ver + `'/></presence>`)
		if pep {
			for range contacts + 1 {
				r.ReadUntil(nsDevices+`"><item`, 10*time.Second)
			}
		} else {
			r.Write(`<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>`)
			r.ReadUntilAny([]string{`id="sync"`, `id='sync'`}, 10*time.Second)
		}
		r.Conn.Close()
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(b.N))
	for range workers {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				login()
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}

// seedOMEMO gives each user a ring of contacts (mutual subscriptions),
// a device list and a bundle, and caches the clients' caps hash, all
// written to the database before anyone logs in.
func seedOMEMO(b *testing.B, srv *xmpptest.Server, all []jid.JID, contacts int, features []string) {
	ctx := context.Background()
	db, err := storage.Open(ctx, srv.Config)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	err = roster.NewStore(db).Update(ctx, func(tx *roster.Tx) error {
		for i, u := range all {
			for k := 1; k <= contacts/2; k++ {
				c := all[(i+k)%len(all)]
				if err := tx.PutItem(u, &roster.Item{JID: c, State: roster.State{Sub: roster.SubBoth}}); err != nil {
					return err
				}
				if err := tx.PutItem(c, &roster.Item{JID: u, State: roster.State{Sub: roster.SubBoth}}); err != nil {
					return err
				}
			}
		}
		for _, u := range all {
			if _, err := tx.Bump(u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	st := pubsub.NewStore(db)
	cfg := pubsub.NodeConfig{AccessModel: "open", PublishModel: "publishers", MaxItems: 1000, PersistItems: true,
		DeliverPayloads: true, DeliverNotify: true, SendLastPublished: "on_sub_and_presence", NotificationType: "headline"}
	bundle := `<bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic signedPreKeyId='1'>` + strings.Repeat("A", 44) +
		`</signedPreKeyPublic><signedPreKeySignature>` + strings.Repeat("B", 88) + `</signedPreKeySignature><identityKey>` + strings.Repeat("C", 44) + `</identityKey><prekeys>`
	for k := range 50 {
		bundle += fmt.Sprintf(`<preKeyPublic preKeyId='%d'>%s</preKeyPublic>`, k+1, strings.Repeat("D", 44))
	}
	bundle += `</prekeys></bundle>`
	for i, u := range all {
		for _, n := range []struct{ node, payload string }{
			{nsDevices, fmt.Sprintf(`<list xmlns='eu.siacs.conversations.axolotl'><device id='%d'/></list>`, 1000+i)},
			{nsBundles + fmt.Sprint(1000+i), bundle},
		} {
			if err := st.CreateNode(ctx, pubsub.StoredNode{Service: u.String(), Node: n.node, Creator: u.String(), Config: cfg}, 0); err != nil {
				b.Fatal(err)
			}
			if err := st.Publish(ctx, u.String(), n.node, pubsub.Item{ID: "current", Publisher: u.String(), Payload: []byte(n.payload)}, 1); err != nil {
				b.Fatal(err)
			}
		}
	}
	var info strings.Builder
	info.WriteString(`<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc' name='parley-test'/>`)
	for _, f := range features {
		info.WriteString(`<feature var='` + f + `'/>`)
	}
	info.WriteString(`</query>`)
	if err := st.PutCaps(ctx, "sha-1 "+capsVer(features), []byte(info.String())); err != nil {
		b.Fatal(err)
	}
}
