package muc

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
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
// sessions and returns the first occupant's JID and the room. With
// archive set the room is persistent and archived.
func benchRoom(b testing.TB, k int, archive ...*storage.Archive) (*Service, jid.JID, jid.JID, []*fakeSession) {
	b.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := module.NewRegistry()
	r := router.New(log, reg, []string{"localhost"})
	c := Config{Host: r, Log: log, Domains: []string{"localhost"}, HistorySize: 20, MaxOccupants: 1000}
	if len(archive) > 0 {
		c.Archive = archive[0]
	}
	s := New(c)
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
		if i == 0 && c.Archive != nil {
			rm := s.room(roomJID)
			rm.mu.Lock()
			rm.cfg.Persistent = true
			rm.persistent.Store(true)
			rm.mu.Unlock()
		}
	}
	return s, sessions[0].jid, roomJID, sessions
}

func benchMessage(roomJID jid.JID) *stanza.Element {
	return stanza.New(stanza.NSClient, "message").SetAttr("to", roomJID.String()).SetAttr("type", "groupchat").SetAttr("id", "m1").
		Append(stanza.New(stanza.NSClient, "body").AppendText("1234567890 a benchmark message of some sixty bytes or so....."))
}

// BenchmarkGroupchatFanOut: one groupchat message from an occupant to a
// room of K occupants, through the router to fake sessions that
// serialise it; per op is one message (K deliveries). Unarchived: the
// room is temporary.
func BenchmarkGroupchatFanOut(b *testing.B) {
	for _, k := range []int{10, 100, 1000} {
		b.Run("K="+strconv.Itoa(k), func(b *testing.B) {
			s, from, roomJID, sessions := benchRoom(b, k)
			ctx := context.Background()
			msg := benchMessage(roomJID)
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

// BenchmarkGroupchatFanOutArchived is BenchmarkGroupchatFanOut in a
// persistent room archived on SQLite (XEP-0313), with 16 occupants
// sending at once per CPU, so that the room's writer batches what they
// send into the archive's group commits. Per op is one message, archived
// (durable) and delivered to K occupants.
func BenchmarkGroupchatFanOutArchived(b *testing.B) {
	for _, k := range []int{10, 100, 1000} {
		b.Run("K="+strconv.Itoa(k), func(b *testing.B) {
			cfg := config.Default()
			cfg.DataDir = b.TempDir()
			db, err := storage.Open(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			s, _, roomJID, sessions := benchRoom(b, k, db.Archive())
			ctx := context.Background()
			msg := benchMessage(roomJID)
			for _, fs := range sessions {
				fs.mu.Lock()
				fs.n = 0
				fs.mu.Unlock()
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				from := sessions[int(next.Add(1)-1)%k].jid
				for pb.Next() {
					if err := s.Route(ctx, from, roomJID, msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			last := sessions[k-1]
			last.mu.Lock()
			got := last.n
			last.mu.Unlock()
			if got != b.N {
				b.Fatalf("last occupant got %d of %d", got, b.N)
			}
			st := db.Archive().Stats()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/delivery")
			b.ReportMetric(float64(st.Messages)/float64(max(st.Batches, 1)), "msgs/commit")
		})
	}
}
