package storagetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/admin"
)

var adminCases = []Case{
	{"admin/tokens", func(t *testing.T, e *Env) {
		s := admin.NewStore(e.DB)
		tok, secret, err := s.CreateToken(e.Ctx, "ci "+e.Domain)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(secret, tok.Name) || !strings.Contains(secret, tok.ID) {
			t.Errorf("token %q for %+v", secret, tok)
		}
		if id, err := s.CheckToken(e.Ctx, secret); err != nil || id != tok.ID {
			t.Fatalf("CheckToken = %q, %v", id, err)
		}
		// The last character changed (to "x", or "y" when it is "x": a
		// random secret ends in "x" now and then).
		wrong := secret[:len(secret)-1] + "x"
		if wrong == secret {
			wrong = secret[:len(secret)-1] + "y"
		}
		if _, err := s.CheckToken(e.Ctx, wrong); !errors.Is(err, admin.ErrBadToken) {
			t.Errorf("wrong secret: %v", err)
		}
		list, err := s.Tokens(e.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range list {
			if l.ID == tok.ID {
				found = l.Name == tok.Name && !l.LastUsed.IsZero()
			}
		}
		if !found {
			t.Errorf("token %s not listed with its name and use: %+v", tok.ID, list)
		}
		if err := s.RevokeToken(e.Ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CheckToken(e.Ctx, secret); !errors.Is(err, admin.ErrBadToken) {
			t.Errorf("revoked token accepted: %v", err)
		}
		if err := s.RevokeToken(e.Ctx, tok.ID); !errors.Is(err, admin.ErrNoToken) {
			t.Errorf("revoke twice: %v", err)
		}
	}},
	{"admin/audit", func(t *testing.T, e *Env) {
		s := admin.NewStore(e.DB)
		for _, a := range []string{"user.create", "user.delete"} {
			if err := s.Audit(e.Ctx, admin.AuditEntry{Actor: "a@" + e.Domain, Action: a, Target: "b@" + e.Domain, Detail: "ünïcode", Remote: "127.0.0.1"}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.AuditLog(e.Ctx, 2)
		if err != nil || len(got) != 2 {
			t.Fatalf("AuditLog = %d, %v", len(got), err)
		}
		if got[0].Action != "user.delete" || got[1].Action != "user.create" || got[0].Detail != "ünïcode" || got[0].ID <= got[1].ID {
			t.Errorf("log (newest first) = %+v", got)
		}
	}},
	{"admin/logins", func(t *testing.T, e *Env) {
		s := admin.NewStore(e.DB)
		user, other := e.JID(t, "root@D"), e.JID(t, "other@D")
		now := time.UnixMilli(time.Now().UnixMilli())
		ttl := 30 * time.Minute
		id, lg, err := s.CreateLogin(e.Ctx, user, now, now.Add(ttl))
		if err != nil || id == "" || lg.CSRF == "" || lg.CSRF == id {
			t.Fatalf("CreateLogin = %q, %+v, %v", id, lg, err)
		}
		got, ok, err := s.UseLogin(e.Ctx, id, now.Add(time.Minute), now.Add(time.Minute+ttl))
		if err != nil || !ok || got.User != user || got.CSRF != lg.CSRF || !got.Expires.Equal(now.Add(time.Minute+ttl)) {
			t.Fatalf("UseLogin = %+v, %v, %v", got, ok, err)
		}
		if _, ok, err := s.UseLogin(e.Ctx, id+"x", now, now.Add(ttl)); ok || err != nil {
			t.Errorf("unknown cookie: %v, %v", ok, err)
		}
		// Renewed: still valid past the first expiry, gone after the second.
		if _, ok, _ := s.UseLogin(e.Ctx, id, now.Add(ttl+time.Second), now.Add(ttl+time.Second)); !ok {
			t.Error("renewed login expired at its first expiry")
		}
		if _, ok, _ := s.UseLogin(e.Ctx, id, now.Add(2*ttl), now.Add(3*ttl)); ok {
			t.Error("expired login accepted")
		}
		if _, ok, _ := s.UseLogin(e.Ctx, id, now, now.Add(ttl)); ok {
			t.Error("an expired login is not deleted when met")
		}
		a, _, _ := s.CreateLogin(e.Ctx, user, now, now.Add(ttl))
		b, _, _ := s.CreateLogin(e.Ctx, other, now, now.Add(ttl))
		c, _, _ := s.CreateLogin(e.Ctx, other, now, now.Add(time.Second))
		if n, err := s.EndLogins(e.Ctx, user); err != nil || n != 1 {
			t.Errorf("EndLogins = %d, %v", n, err)
		}
		if err := s.EndLogin(e.Ctx, b); err != nil {
			t.Fatal(err)
		}
		for _, gone := range []string{a, b} {
			if _, ok, _ := s.UseLogin(e.Ctx, gone, now, now.Add(ttl)); ok {
				t.Error("ended login accepted")
			}
		}
		if _, err := s.SweepLogins(e.Ctx, now.Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.UseLogin(e.Ctx, c, now, now.Add(ttl)); ok {
			t.Error("swept login accepted")
		}
	}},
}
