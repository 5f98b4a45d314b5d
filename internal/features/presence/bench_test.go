package presence_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/xmpptest"
)

const (
	benchContacts = 500
	benchOnline   = 100
)

// fanoutRig is a user whose roster holds benchContacts contacts
// (subscription both), benchOnline of them online and available.
type fanoutRig struct {
	srv    *xmpptest.Server
	online []*xmpptest.Client
}

func newFanoutRig(b *testing.B) *fanoutRig {
	srv := xmpptest.Start(b)
	srv.AddUser(b, "u@localhost", pw)
	contacts := make([]jid.JID, benchContacts)
	for i := range contacts {
		contacts[i] = srv.AddUser(b, fmt.Sprintf("c%d@localhost", i), pw)
	}
	st := openStore(b, srv)
	u := jid.MustParse("u@localhost")
	err := st.Update(context.Background(), func(tx *roster.Tx) error {
		for _, c := range contacts {
			if err := tx.PutItem(u, &roster.Item{JID: c, Groups: []string{"Contacts"}, State: roster.State{Sub: roster.SubBoth}}); err != nil {
				return err
			}
			if err := tx.PutState(c, u, roster.State{Sub: roster.SubBoth}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	r := &fanoutRig{srv: srv}
	for i := range benchOnline {
		c := dial(b, srv, contacts[i].String())
		available(b, c, "contact")
		r.online = append(r.online, c)
	}
	for _, c := range r.online {
		barrier(b, c)
	}
	return r
}

// waitFanout waits until u (full JID) has the presence of every online
// contact and every online contact has u's presence of type typ.
func (r *fanoutRig) waitFanout(b *testing.B, u *xmpptest.Client, typ string) {
	if typ == "" {
		seen := map[string]bool{}
		for len(seen) < benchOnline {
			s := u.Expect(b, wait, "probe answers", func(s xmpptest.Stanza) bool {
				return s.XMLName.Local == "presence" && strings.HasPrefix(s.Attr("from"), "c")
			})
			seen[s.Attr("from")] = true
		}
	}
	for _, c := range r.online {
		c.Expect(b, wait, "u's presence", isPresence(u.JID.String(), typ))
	}
}

// BenchmarkLoginFanout measures a login of a user with a 500-contact
// roster, 100 of them online: connect, STARTTLS, SCRAM, bind, initial
// presence, until the presence has fanned out to the 100 and the 100
// probe answers are back. Allocations of the test clients count too.
func BenchmarkLoginFanout(b *testing.B) {
	r := newFanoutRig(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		u := dial(b, r.srv, "u@localhost")
		available(b, u, "u")
		r.waitFanout(b, u, "")
		b.StopTimer()
		u.Close()
		r.waitFanout(b, u, "unavailable")
		b.StartTimer()
	}
}

// BenchmarkInitialPresenceFanout measures only the initial presence of a
// bound session: broadcast to the 100 online contacts, probes of all 500
// (400 answered from storage), 100 answers back.
func BenchmarkInitialPresenceFanout(b *testing.B) {
	r := newFanoutRig(b)
	u := dial(b, r.srv, "u@localhost")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		available(b, u, "u")
		r.waitFanout(b, u, "")
		b.StopTimer()
		send(b, u, `<presence type='unavailable'/>`)
		r.waitFanout(b, u, "unavailable")
		barrier(b, u)
		b.StartTimer()
	}
}
