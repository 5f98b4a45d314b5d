package muc

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
)

// fakeSession serialises what it gets, as c2s does, into a buffer it
// reuses, and counts it.
type fakeSession struct {
	jid jid.JID
	mu  sync.Mutex
	buf []byte
	n   int
}

func (f *fakeSession) JID() jid.JID { return f.jid }
func (f *fakeSession) Deliver(el *stanza.Element) error {
	f.mu.Lock()
	f.buf = el.AppendXML(f.buf[:0], stanza.NSClient)
	f.n++
	f.mu.Unlock()
	return nil
}
func (f *fakeSession) Presence() (bool, int) { return true, 0 }
func (f *fakeSession) Close(string, string)  {}

// benchRoom makes a service with one room of k occupants on fake
// sessions and returns the first occupant's JID and the room.
func benchRoom(b testing.TB, k int) (*Service, jid.JID, jid.JID, []*fakeSession) {
	b.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := module.NewRegistry()
	r := router.New(log, reg, []string{"localhost"})
	s := New(Config{Host: r, Log: log, Domains: []string{"localhost"}, HistorySize: 20, MaxOccupants: 1000})
	s.Register(reg)
	ctx := context.Background()
	roomJID := jid.MustParse("bench@conference.localhost")
	var sessions []*fakeSession
	for i := range k {
		fs := &fakeSession{jid: jid.MustParse("u" + strconv.Itoa(i) + "@localhost/r")}
		r.Bind(fs)
		sessions = append(sessions, fs)
		p := stanza.New(stanza.NSClient, "presence").SetAttr("to", roomJID.String()+"/n"+strconv.Itoa(i))
		if err := s.Route(ctx, fs.jid, jid.MustParse(roomJID.String()+"/n"+strconv.Itoa(i)), p); err != nil {
			b.Fatal(err)
		}
	}
	return s, sessions[0].jid, roomJID, sessions
}

// BenchmarkGroupchatFanOut: one groupchat message from an occupant to a
// room of K occupants, through the router to fake sessions that
// serialise it; per op is one message (K deliveries).
func BenchmarkGroupchatFanOut(b *testing.B) {
	for _, k := range []int{10, 100} {
		b.Run("K="+strconv.Itoa(k), func(b *testing.B) {
			s, from, roomJID, sessions := benchRoom(b, k)
			ctx := context.Background()
			msg := stanza.New(stanza.NSClient, "message").SetAttr("to", roomJID.String()).SetAttr("type", "groupchat").SetAttr("id", "m1").
				Append(stanza.New(stanza.NSClient, "body").AppendText("1234567890 a benchmark message of some sixty bytes or so....."))
			for _, fs := range sessions {
				fs.n = 0
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := s.Route(ctx, from, roomJID, msg); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if sessions[k-1].n != b.N {
				b.Fatalf("last occupant got %d of %d", sessions[k-1].n, b.N)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/delivery")
		})
	}
}
