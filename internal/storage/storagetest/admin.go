package storagetest

import (
	"errors"
	"strings"
	"testing"

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
		if _, err := s.CheckToken(e.Ctx, secret[:len(secret)-1]+"x"); !errors.Is(err, admin.ErrBadToken) {
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
}
