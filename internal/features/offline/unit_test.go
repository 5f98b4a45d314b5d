package offline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

func parse(tb testing.TB, s string) *stanza.Element {
	tb.Helper()
	els, err := storage.DecodeElements([]byte(s))
	if err != nil || len(els) != 1 {
		tb.Fatalf("parse %q: %v", s, err)
	}
	return els[0]
}

func TestStorable(t *testing.T) {
	tests := []struct {
		name, xml string
		want      bool
	}{
		{"chat with body", `<message type='chat'><body>hi</body></message>`, true},
		{"no type", `<message><body>hi</body></message>`, true},
		{"normal", `<message type='normal'><subject>s</subject></message>`, true},
		{"headline", `<message type='headline'><body>hi</body></message>`, false},
		{"groupchat", `<message type='groupchat'><body>hi</body></message>`, false},
		{"error", `<message type='error'><body>hi</body></message>`, false},
		{"unknown type", `<message type='weird'><body>hi</body></message>`, false},
		{"chat state only", `<message type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`, false},
		{"chat state and thread", `<message type='chat'><thread>t</thread><paused xmlns='http://jabber.org/protocol/chatstates'/></message>`, false},
		{"empty", `<message/>`, false},
		{"body and chat state", `<message type='chat'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`, true},
		{"no-store", `<message type='chat'><body>hi</body><no-store xmlns='urn:xmpp:hints'/></message>`, false},
		{"no-store wins over store", `<message><body>x</body><store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/></message>`, false},
		{"store", `<message type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/><store xmlns='urn:xmpp:hints'/></message>`, true},
		{"store on headline", `<message type='headline'><body>x</body><store xmlns='urn:xmpp:hints'/></message>`, false},
		{"no-permanent-store still stored", `<message><body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`, true},
		{"other payload", `<message><x xmlns='jabber:x:oob'><url>u</url></x></message>`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Storable(parse(t, tt.xml)); got != tt.want {
				t.Errorf("Storable = %v, want %v", got, tt.want)
			}
		})
	}
}

// fakeSession is a bound, available resource that serialises what it
// gets, as c2s does, and can be made to refuse after n stanzas.
type fakeSession struct {
	full     jid.JID
	prio     int
	refuseAt int64 // refuse from this delivery on (0: never)
	n        atomic.Int64
	buf      []byte
	got      []string
}

func (s *fakeSession) JID() jid.JID            { return s.full }
func (s *fakeSession) Presence() (bool, int)   { return true, s.prio }
func (s *fakeSession) Close(cond, text string) {}
func (s *fakeSession) Deliver(el *stanza.Element) error {
	if n := s.n.Add(1); s.refuseAt > 0 && n >= s.refuseAt {
		return io.ErrClosedPipe
	}
	s.buf = el.AppendXML(s.buf[:0], stanza.NSClient)
	if s.got != nil || s.refuseAt > 0 {
		s.got = append(s.got, el.ChildText("", "body"))
	}
	return nil
}

type fixture struct {
	m     *Module
	rt    *router.Router
	owner jid.JID
}

func newFixture(tb testing.TB, quota int) *fixture {
	tb.Helper()
	db := storagetest.Open(tb, "sqlite")
	owner := jid.MustParse("bob@localhost")
	if err := account.NewStore(db, storagetest.Iterations).Create(context.Background(), owner, "pw"); err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := module.NewRegistry()
	rt := router.New(log, reg, []string{"localhost"})
	m := New(Config{DB: db, Host: rt, Log: log, MaxPerUser: quota})
	m.Register(reg)
	return &fixture{m: m, rt: rt, owner: owner}
}

func (f *fixture) store(tb testing.TB, i int) {
	tb.Helper()
	el := stanza.New(stanza.NSClient, "message").SetAttr("from", "alice@localhost/x").SetAttr("to", "bob@localhost").SetAttr("type", "chat")
	el.Append(stanza.New(stanza.NSClient, "body").AppendText(fmt.Sprintf("message %d, long enough to look like a real chat line", i)))
	ev := &module.Event{From: jid.MustParse("alice@localhost/x"), To: f.owner, Stanza: el}
	if handled, err := f.m.store(context.Background(), ev); err != nil || !handled {
		tb.Fatalf("store %d: %v, %v", i, handled, err)
	}
}

func TestFlushKeepsWhatWasNotQueued(t *testing.T) {
	f := newFixture(t, 0)
	for i := range 10 {
		f.store(t, i)
	}
	s := &fakeSession{full: jid.MustParse("bob@localhost/a"), refuseAt: 4}
	if err := f.m.Flush(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if len(s.got) != 3 {
		t.Fatalf("delivered %d before the session closed, want 3", len(s.got))
	}
	s2 := &fakeSession{full: jid.MustParse("bob@localhost/b"), got: []string{}}
	if err := f.m.Flush(context.Background(), s2); err != nil {
		t.Fatal(err)
	}
	if len(s2.got) != 7 || !strings.Contains(s2.got[0], "message 3,") {
		t.Fatalf("next login got %d, first %q; want 7 starting at message 3", len(s2.got), s2.got)
	}
}

func TestFlushBurstBound(t *testing.T) {
	f := newFixture(t, 0)
	f.m.cfg.MaxBurstBytes = 1000
	for i := range 20 {
		f.store(t, i)
	}
	s := &fakeSession{full: jid.MustParse("bob@localhost/a"), got: []string{}}
	if err := f.m.Flush(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if n := len(s.got); n == 0 || n >= 20 {
		t.Fatalf("one burst delivered %d of 20", n)
	}
	first := len(s.got)
	s.got = s.got[:0]
	f.m.Flush(context.Background(), s)
	if len(s.got) == 0 || !strings.Contains(s.got[0], fmt.Sprintf("message %d,", first)) {
		t.Fatalf("second burst starts with %q, want message %d", s.got, first)
	}
}

// BenchmarkStore measures offline messages stored per second (each one
// committed, with the quota checked).
func BenchmarkStore(b *testing.B) {
	f := newFixture(b, 1<<30)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		f.store(b, i)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkDeliver1000 measures delivering a backlog of 1,000 stored
// messages at login (read, parse, stamp, serialise, remove).
func BenchmarkDeliver1000(b *testing.B) {
	const backlog = 1000
	f := newFixture(b, 0)
	s := &fakeSession{full: jid.MustParse("bob@localhost/a")}
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		for i := range backlog {
			f.store(b, i)
		}
		s.n.Store(0)
		b.StartTimer()
		if err := f.m.Flush(context.Background(), s); err != nil {
			b.Fatal(err)
		}
		if s.n.Load() != backlog {
			b.Fatalf("delivered %d", s.n.Load())
		}
	}
}
