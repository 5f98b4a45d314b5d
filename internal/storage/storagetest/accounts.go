package storagetest

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
)

var accountCases = []Case{
	{"accounts/disable and re-enable", func(t *testing.T, e *Env) {
		j, other := e.User(t, "dis"), e.User(t, "other")
		if d, err := e.Accounts.Disabled(e.Ctx, j); err != nil || d {
			t.Fatalf("new account Disabled = %v, %v; want false", d, err)
		}
		if err := e.Accounts.SetDisabled(e.Ctx, j, true); err != nil {
			t.Fatal(err)
		}
		if d, err := e.Accounts.Disabled(e.Ctx, j); err != nil || !d {
			t.Fatalf("after disable Disabled = %v, %v", d, err)
		}
		if d, _ := e.Accounts.Disabled(e.Ctx, other); d {
			t.Error("disabling one account disabled another")
		}
		if ok, err := e.Accounts.Exists(e.Ctx, j); err != nil || !ok {
			t.Errorf("a disabled account must still exist: %v, %v", ok, err)
		}
		if err := e.Accounts.SetDisabled(e.Ctx, j, false); err != nil {
			t.Fatal(err)
		}
		if d, err := e.Accounts.Disabled(e.Ctx, j); err != nil || d {
			t.Errorf("after re-enable Disabled = %v, %v", d, err)
		}
		missing := e.JID(t, "nobody@D")
		if err := e.Accounts.SetDisabled(e.Ctx, missing, true); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("SetDisabled of a missing account = %v, want ErrNotFound", err)
		}
		if _, err := e.Accounts.Disabled(e.Ctx, missing); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("Disabled of a missing account = %v, want ErrNotFound", err)
		}
	}},
	{"accounts/create exists credentials", func(t *testing.T, e *Env) {
		j := e.User(t, "alice")
		if ok, err := e.Accounts.Exists(e.Ctx, j); err != nil || !ok {
			t.Fatalf("Exists = %v, %v", ok, err)
		}
		if err := e.Accounts.Create(e.Ctx, j, "again"); !errors.Is(err, account.ErrExists) {
			t.Errorf("second Create = %v, want ErrExists", err)
		}
		for _, h := range sasl.Hashes {
			c, err := e.Accounts.Credentials(e.Ctx, j, h)
			if err != nil {
				t.Fatalf("Credentials(%s): %v", h, err)
			}
			if !passwordMatches(t, c, "pw") || c.Iterations != Iterations || len(c.StoredKey) != h.Size() {
				t.Errorf("%s: stored credentials do not match the password: %+v", h, c)
			}
		}
		if _, err := e.Accounts.Credentials(e.Ctx, e.JID(t, "nobody@D"), sasl.SHA256); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("unknown account: %v, want ErrNotFound", err)
		}
	}},
	{"accounts/set password and delete", func(t *testing.T, e *Env) {
		j := e.User(t, "bob")
		if err := e.Accounts.SetPassword(e.Ctx, j, "new"); err != nil {
			t.Fatal(err)
		}
		c, err := e.Accounts.Credentials(e.Ctx, j, sasl.SHA512)
		if err != nil || !passwordMatches(t, c, "new") {
			t.Fatalf("after SetPassword: %v", err)
		}
		if err := e.Accounts.SetPassword(e.Ctx, e.JID(t, "ghost@D"), "x"); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("SetPassword of a missing account = %v", err)
		}
		if err := e.Accounts.Delete(e.Ctx, j); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Accounts.Credentials(e.Ctx, j, sasl.SHA1); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("credentials survive the account: %v", err)
		}
		if err := e.Accounts.Delete(e.Ctx, j); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("second Delete = %v", err)
		}
		e.User(t, "bob") // the name is free again
	}},
	{"accounts/list sorts by bytes", func(t *testing.T, e *Env) {
		// Byte order, not a locale's: upper-case-free prepared names, but
		// digits, ASCII and non-ASCII must sort the same on every engine.
		for _, l := range []string{"zoë", "amy", "émile", "0day", "bob", "Ådne"} {
			e.User(t, l)
		}
		got, err := e.Accounts.List(e.Ctx, e.Domain)
		if err != nil {
			t.Fatal(err)
		}
		var locals []string
		for _, j := range got {
			locals = append(locals, j.Local())
		}
		want := []string{"0day", "amy", "bob", "zoë", "ådne", "émile"}
		if !slices.Equal(locals, want) {
			t.Errorf("List = %q, want %q", locals, want)
		}
	}},
	{"accounts/long names", func(t *testing.T, e *Env) {
		// 500 bytes of localpart fit every engine (MySQL keys: 512).
		e.User(t, strings.Repeat("é", 250))
		long, err := jid.New(strings.Repeat("x", 1000), e.Domain, "")
		if err != nil {
			t.Fatal(err)
		}
		err = e.Accounts.Create(e.Ctx, long, "pw")
		switch e.DB.Driver() {
		case "mysql":
			if err == nil {
				t.Error("a 1000-byte localpart was accepted by MySQL, whose key allows 512: truncated?")
			}
		default:
			if err != nil {
				t.Errorf("1000-byte localpart: %v", err)
			}
		}
	}},
	{"accounts/concurrent creates of one name", func(t *testing.T, e *Env) {
		j := e.JID(t, "race@D")
		const n = 6
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() { defer wg.Done(); errs <- e.Accounts.Create(e.Ctx, j, "pw") }()
		}
		wg.Wait()
		close(errs)
		created := 0
		for err := range errs {
			switch {
			case err == nil:
				created++
			case !errors.Is(err, account.ErrExists):
				t.Errorf("Create: %v, want nil or ErrExists", err)
			}
		}
		if created != 1 {
			t.Errorf("%d of %d concurrent creates succeeded, want 1", created, n)
		}
	}},
	{"accounts/concurrent creates of many names", func(t *testing.T, e *Env) {
		const n = 16
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				j, _ := jid.New("u"+string(rune('a'+i)), e.Domain, "")
				if err := e.Accounts.Create(e.Ctx, j, "pw"); err != nil {
					t.Errorf("Create %s: %v", j, err)
				}
			}()
		}
		wg.Wait()
		if all, err := e.Accounts.List(e.Ctx, e.Domain); err != nil || len(all) != n {
			t.Errorf("List = %d accounts, %v; want %d", len(all), err, n)
		}
	}},
}

// passwordMatches verifies c against password as a SCRAM server would.
func passwordMatches(t *testing.T, c sasl.Credentials, password string) bool {
	t.Helper()
	p, err := sasl.PreparePassword(password)
	if err != nil {
		t.Fatal(err)
	}
	want, err := sasl.DeriveCredentials(c.Hash, p, c.Salt, c.Iterations)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(want.StoredKey, c.StoredKey) && bytes.Equal(want.ServerKey, c.ServerKey)
}
