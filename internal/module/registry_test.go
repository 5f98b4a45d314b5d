package module

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// TestRegistryConcurrentReads registers while readers look up (run with
// -race): every reader sees a consistent table, whose contents only grow,
// in registration order.
func TestRegistryConcurrentReads(t *testing.T) {
	r := NewRegistry()
	const n = 200
	nop := func(context.Context, stanza.IQ) (*stanza.Element, error) { return nil, nil }
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			seenHooks, seenFeats := 0, 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				hooks := 0
				if _, err := r.RunHooks(ctx, Filter, &Event{}); err != nil {
					t.Error(err)
					return
				}
				for range r.tables().hooks[Filter] {
					hooks++
				}
				if hooks < seenHooks {
					t.Errorf("hooks went from %d to %d", seenHooks, hooks)
					return
				}
				seenHooks = hooks
				// Feature i is registered before iq i: once iq i is
				// visible, so are i+1 features.
				lastIQ := -1
				for i := n - 1; i >= 0; i-- {
					if r.LookupIQ(Server, stanza.Get, "urn:test", fmt.Sprint(i)) != nil {
						lastIQ = i
						break
					}
				}
				feats := r.Features()
				if len(feats) < seenFeats {
					t.Errorf("features went from %d to %d", seenFeats, len(feats))
					return
				}
				seenFeats = len(feats)
				if len(feats) < lastIQ+1 {
					t.Errorf("iq %d visible but only %d features", lastIQ, len(feats))
					return
				}
				r.HasHooks(InboundMessage)
				r.StreamFeatures(jid.JID{})
				r.LookupNonza("urn:test", "x")
			}
		})
	}
	for i := range n {
		r.Feature(fmt.Sprintf("urn:test:%04d", i))
		r.IQ(Server, stanza.Get, "urn:test", fmt.Sprint(i), nop)
		r.Hook(Filter, i%7, func(context.Context, *Event) (bool, error) { return false, nil })
		r.StreamFeature(func(jid.JID) *stanza.Element { return nil })
	}
	close(stop)
	wg.Wait()
	if got := len(r.Features()); got != n {
		t.Errorf("%d features, want %d", got, n)
	}
	hs := r.tables().hooks[Filter]
	for i := 1; i < len(hs); i++ {
		if hs[i-1].prio < hs[i].prio {
			t.Fatalf("hooks not in priority order at %d: %d before %d", i, hs[i-1].prio, hs[i].prio)
		}
	}
}

// A duplicate registration panics and leaves the tables as they were.
func TestRegistryDuplicatePublishesNothing(t *testing.T) {
	r := NewRegistry()
	nop := func(context.Context, stanza.IQ) (*stanza.Element, error) { return nil, nil }
	r.IQ(Server, stanza.Get, "urn:a", "q", nop)
	before := r.tables()
	mustPanic(t, "duplicate iq for Server|Account", func() {
		r.IQ(Server|Account, stanza.Get, "urn:a", "q", nop)
	})
	if r.tables() != before {
		t.Error("a refused registration published new tables")
	}
	if r.LookupIQ(Account, stanza.Get, "urn:a", "q") != nil {
		t.Error("the refused registration's Account half was kept")
	}
}

// Publishing a copy must not change what an earlier reader holds.
func TestRegistryPublishedTablesImmutable(t *testing.T) {
	r := NewRegistry()
	fn := func(context.Context, *Event) (bool, error) { return false, nil }
	r.Hook(Filter, 1, fn)
	r.Hook(Filter, 2, fn)
	old := r.tables().hooks[Filter]
	oldFirst := old[0].prio
	r.Hook(Filter, 3, fn)
	if len(old) != 2 || old[0].prio != oldFirst {
		t.Errorf("an earlier snapshot changed: %v", old)
	}
}

func BenchmarkRegistryLookup(b *testing.B) {
	r := NewRegistry()
	nop := func(context.Context, stanza.IQ) (*stanza.Element, error) { return nil, nil }
	for i := range 50 {
		r.IQ(Server, stanza.Get, "urn:test", fmt.Sprint(i), nop)
	}
	r.Hook(InboundMessage, 0, func(context.Context, *Event) (bool, error) { return false, nil })
	ctx := context.Background()
	ev := &Event{}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r.LookupIQ(Server, stanza.Get, "urn:test", "7") == nil || !r.HasHooks(InboundMessage) {
				b.Fatal("lookup failed")
			}
			if _, err := r.RunHooks(ctx, InboundMessage, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestAccountIdentities: identities declared for accounts are kept apart
// from the server's, in registration order.
func TestAccountIdentities(t *testing.T) {
	r := NewRegistry()
	r.Identity(Identity{Category: "server", Type: "im"})
	r.AccountIdentity(Identity{Category: "pubsub", Type: "pep"})
	r.AccountIdentity(Identity{Category: "x", Type: "y"})
	got := r.AccountIdentities()
	if len(got) != 2 || got[0].Type != "pep" || got[1].Type != "y" || len(r.Identities()) != 1 {
		t.Fatalf("account identities %v, server %v", got, r.Identities())
	}
	got[0].Type = "changed"
	if r.AccountIdentities()[0].Type != "pep" {
		t.Fatal("the returned slice aliases the registry's")
	}
}
