package roster_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/roster"
	"github.com/parleyim/parley/internal/router"
)

func TestSubscribed(t *testing.T) {
	ctx := context.Background()
	st, db := newTestStore(t, "sqlite", "alice@localhost", "bob@localhost")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := roster.New(roster.Deps{Log: log, DB: db, Router: router.New(log, module.NewRegistry(), []string{"localhost"}), Limits: config.Default().Roster})
	carol := jid.MustParse("carol@localhost")
	if err := st.Update(ctx, func(tx *roster.Tx) error {
		if err := tx.PutState(alice, bob, roster.State{Sub: roster.SubFrom}); err != nil {
			return err
		}
		return tx.PutState(alice, carol, roster.State{Sub: roster.SubTo})
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		owner, requester jid.JID
		want             bool
	}{
		{"self, any resource", alice, jid.MustParse("alice@localhost/r"), true},
		{"subscriber", alice, jid.MustParse("bob@localhost/phone"), true},
		{"only 'to'", alice, carol, false},
		{"stranger", alice, jid.MustParse("dave@localhost"), false},
		{"the other way round", bob, alice, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Subscribed(ctx, tc.owner, tc.requester)
			if err != nil || got != tc.want {
				t.Fatalf("Subscribed = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
