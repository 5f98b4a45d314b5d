package router_test

import (
	"context"
	"testing"

	"github.com/parleyim/parley/internal/jid"
)

// TestAccountExists pins module.Host.AccountExists as the router answers
// it: accounts of served domains only, asked with the bare JID.
func TestAccountExists(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		j    string
		want bool
	}{
		{"alice@localhost", true},
		{"alice@localhost/phone", true},
		{"nobody@localhost", false},
		{"alice@example.org", false},
		{"localhost", false},
	} {
		got, err := e.r.AccountExists(context.Background(), jid.MustParse(tc.j))
		if err != nil || got != tc.want {
			t.Errorf("AccountExists(%s) = %v, %v; want %v", tc.j, got, err, tc.want)
		}
	}
}
