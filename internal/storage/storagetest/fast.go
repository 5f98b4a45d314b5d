package storagetest

import (
	"bytes"
	"crypto/sha256"
	"strconv"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

// fastKey is a stand-in for sasl.HTKey of a token named n.
func fastKey(n string) []byte {
	s := sha256.Sum256([]byte(n))
	return s[:]
}

func fastToken(name, agent string, created time.Time, life time.Duration) storage.FastToken {
	return storage.FastToken{Key: fastKey(name), Agent: agent, Mechanism: "HT-SHA-256-NONE",
		Created: created, Expires: created.Add(life)}
}

// fastKeys lists the keys of user's agent as token names among names.
func fastKeys(t *testing.T, e *Env, user jid.JID, agent string, names ...string) []string {
	t.Helper()
	toks, err := e.DB.FastTokens().Candidates(e.Ctx, user, agent)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tok := range toks {
		for _, n := range names {
			if bytes.Equal(tok.Key, fastKey(n)) {
				out = append(out, n)
			}
		}
	}
	return out
}

var fastCases = []Case{
	{"fast/issue use replay rotate", func(t *testing.T, e *Env) {
		u := e.User(t, "f")
		f := e.DB.FastTokens()
		now := time.Now().Truncate(time.Millisecond)
		if err := f.Issue(e.Ctx, u, fastToken("t1", "phone", now, time.Hour), 10); err != nil {
			t.Fatal(err)
		}
		toks, err := f.Candidates(e.Ctx, u, "phone")
		if err != nil || len(toks) != 1 {
			t.Fatalf("Candidates = %v, %v", toks, err)
		}
		t1 := toks[0]
		if t1.Mechanism != "HT-SHA-256-NONE" || !t1.Expires.Equal(now.Add(time.Hour)) || t1.LastCount != -1 || t1.Uses != 0 {
			t.Errorf("stored token = %+v", t1)
		}
		if ok, err := f.Use(e.Ctx, u, t1, 5); err != nil || !ok {
			t.Fatalf("Use(count 5) = %v, %v", ok, err)
		}
		for _, c := range []int64{5, 4} {
			if ok, err := f.Use(e.Ctx, u, t1, c); err != nil || ok {
				t.Errorf("Use(count %d) after 5 = %v, %v; want refused (replay)", c, ok, err)
			}
		}
		if ok, err := f.Use(e.Ctx, u, t1, 6); err != nil || !ok {
			t.Errorf("Use(count 6) = %v, %v", ok, err)
		}
		if ok, err := f.Use(e.Ctx, u, t1, -1); err != nil || !ok {
			t.Errorf("Use(no count) = %v, %v", ok, err)
		}
		// Rotation: t2 is issued while t1 is in use; both stay valid until
		// t2 is used, which invalidates t1 (earlier expiry).
		if err := f.Issue(e.Ctx, u, fastToken("t2", "phone", now.Add(time.Minute), time.Hour), 10); err != nil {
			t.Fatal(err)
		}
		if got := fastKeys(t, e, u, "phone", "t1", "t2"); len(got) != 2 {
			t.Fatalf("after rotation: %v, want t1 and t2", got)
		}
		toks, _ = f.Candidates(e.Ctx, u, "phone")
		var t2 storage.FastToken
		for _, tok := range toks {
			if bytes.Equal(tok.Key, fastKey("t2")) {
				t2 = tok
			}
		}
		if ok, err := f.Use(e.Ctx, u, t2, 0); err != nil || !ok {
			t.Fatalf("Use(t2) = %v, %v", ok, err)
		}
		if got := fastKeys(t, e, u, "phone", "t1", "t2"); len(got) != 1 || got[0] != "t2" {
			t.Errorf("after using t2: %v, want only t2", got)
		}
		if ok, _ := f.Use(e.Ctx, u, t1, 100); ok {
			t.Error("t1 still usable after t2 was used")
		}
	}},
	{"fast/unused superseded expired", func(t *testing.T, e *Env) {
		u := e.User(t, "g")
		f := e.DB.FastTokens()
		now := time.Now()
		for _, n := range []string{"a", "b"} {
			if err := f.Issue(e.Ctx, u, fastToken(n, "laptop", now, time.Hour), 10); err != nil {
				t.Fatal(err)
			}
		}
		if got := fastKeys(t, e, u, "laptop", "a", "b"); len(got) != 1 || got[0] != "b" {
			t.Errorf("an unused token was not superseded: %v", got)
		}
		old := fastToken("old", "tablet", now.Add(-2*time.Hour), time.Hour)
		if err := f.Issue(e.Ctx, u, old, 10); err != nil {
			t.Fatal(err)
		}
		if ok, err := f.Use(e.Ctx, u, old, 1); err != nil || ok {
			t.Errorf("expired token Use = %v, %v; want refused", ok, err)
		}
		// The next issue purges it.
		if err := f.Issue(e.Ctx, u, fastToken("c", "laptop", now, time.Hour), 10); err != nil {
			t.Fatal(err)
		}
		if got := fastKeys(t, e, u, "tablet", "old"); len(got) != 0 {
			t.Errorf("expired token kept: %v", got)
		}
		if deleted, err := f.Delete(e.Ctx, u, fastKey("c")); err != nil || !deleted {
			t.Errorf("Delete = %v, %v", deleted, err)
		}
		if got := fastKeys(t, e, u, "laptop", "c"); len(got) != 0 {
			t.Errorf("deleted token kept: %v", got)
		}
	}},
	{"fast/limit evicts oldest", func(t *testing.T, e *Env) {
		u := e.User(t, "h")
		f := e.DB.FastTokens()
		base := time.Now()
		for i := range 4 {
			tok := fastToken("k"+strconv.Itoa(i), "agent"+strconv.Itoa(i), base.Add(time.Duration(i)*time.Second), time.Hour)
			if err := f.Issue(e.Ctx, u, tok, 3); err != nil {
				t.Fatal(err)
			}
		}
		if got := fastKeys(t, e, u, "agent0", "k0"); len(got) != 0 {
			t.Error("the oldest token was not evicted past the limit")
		}
		for i := 1; i < 4; i++ {
			if got := fastKeys(t, e, u, "agent"+strconv.Itoa(i), "k"+strconv.Itoa(i)); len(got) != 1 {
				t.Errorf("token k%d evicted", i)
			}
		}
	}},
	{"fast/password change and account deletion remove tokens", func(t *testing.T, e *Env) {
		u := e.User(t, "p")
		f := e.DB.FastTokens()
		if err := f.Issue(e.Ctx, u, fastToken("p1", "phone", time.Now(), time.Hour), 10); err != nil {
			t.Fatal(err)
		}
		if err := e.Accounts.SetPassword(e.Ctx, u, "changed"); err != nil {
			t.Fatal(err)
		}
		if got := fastKeys(t, e, u, "phone", "p1"); len(got) != 0 {
			t.Error("token survived a password change")
		}
		if err := f.Issue(e.Ctx, u, fastToken("p2", "phone", time.Now(), time.Hour), 10); err != nil {
			t.Fatal(err)
		}
		if err := e.Accounts.Delete(e.Ctx, u); err != nil {
			t.Fatal(err)
		}
		e.User(t, "p") // same name again: nothing of the old account's tokens
		if got := fastKeys(t, e, u, "phone", "p2"); len(got) != 0 {
			t.Error("token survived the account's deletion")
		}
	}},
	{"fast/bad input", func(t *testing.T, e *Env) {
		u := e.User(t, "q")
		f := e.DB.FastTokens()
		long := string(bytes.Repeat([]byte("x"), storage.MaxFastAgentBytes+1))
		for _, agent := range []string{"", long} {
			if err := f.Issue(e.Ctx, u, fastToken("z", agent, time.Now(), time.Hour), 10); err == nil {
				t.Errorf("Issue with a user-agent id of %d bytes succeeded", len(agent))
			}
		}
		if err := f.Issue(e.Ctx, e.JID(t, "q@D/res"), fastToken("z", "a", time.Now(), time.Hour), 10); err == nil {
			t.Error("Issue for a full JID succeeded")
		}
	}},
}
