package account

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/storage"
)

const testIterations = 64 // low: PBKDF2 is slow under -race; the count is not what is tested

func testConfig(tb testing.TB) config.Config {
	tb.Helper()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(tb.TempDir(), "data")
	return cfg
}

func openDB(tb testing.TB, cfg config.Config) *storage.DB {
	tb.Helper()
	db, err := storage.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("storage.Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func newStore(tb testing.TB) *Store {
	tb.Helper()
	return NewStore(openDB(tb, testConfig(tb)), testIterations)
}

// checkPassword verifies c against password the way a SCRAM server would.
func checkPassword(t *testing.T, c sasl.Credentials, password string) bool {
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

func TestCreateAndCredentials(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	alice := jid.MustParse("Alice@LOCALHOST")

	if ok, err := s.Exists(ctx, alice); err != nil || ok {
		t.Fatalf("Exists before Create = %v, %v", ok, err)
	}
	if err := s.Create(ctx, alice, "s3cret"); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if ok, err := s.Exists(ctx, jid.MustParse("alice@localhost")); err != nil || !ok {
		t.Fatalf("Exists after Create = %v, %v", ok, err)
	}
	if err := s.Create(ctx, alice, "other"); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}

	var salts [][]byte
	for _, h := range []sasl.Hash{sasl.SHA1, sasl.SHA256, sasl.SHA512} {
		c, err := s.Credentials(ctx, alice, h)
		if err != nil {
			t.Fatalf("Credentials(%s): %v", h, err)
		}
		if c.Hash != h || c.Iterations != testIterations || len(c.Salt) != 16 ||
			len(c.StoredKey) != h.Size() || len(c.ServerKey) != h.Size() {
			t.Errorf("%s: unexpected credentials %+v", h, c)
		}
		if !checkPassword(t, c, "s3cret") {
			t.Errorf("%s: credentials do not match the password", h)
		}
		if checkPassword(t, c, "other") {
			t.Errorf("%s: credentials match the wrong password", h)
		}
		for _, s := range salts {
			if bytes.Equal(s, c.Salt) {
				t.Errorf("%s: salt reused across hashes", h)
			}
		}
		salts = append(salts, c.Salt)
	}
}

func TestCredentialsErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Credentials(ctx, jid.MustParse("nobody@localhost"), sasl.SHA256); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown account: %v, want ErrNotFound", err)
	}
	if _, err := s.Credentials(ctx, jid.MustParse("a@localhost"), sasl.Hash("MD5")); err == nil {
		t.Error("unknown hash accepted")
	}
}

func TestInvalidJIDs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, j := range []jid.JID{{}, jid.MustParse("localhost"), jid.MustParse("a@localhost/res")} {
		if err := s.Create(ctx, j, "pw"); !errors.Is(err, ErrInvalidJID) {
			t.Errorf("Create(%q) = %v, want ErrInvalidJID", j, err)
		}
		if err := s.SetPassword(ctx, j, "pw"); !errors.Is(err, ErrInvalidJID) {
			t.Errorf("SetPassword(%q) = %v", j, err)
		}
		if err := s.Delete(ctx, j); !errors.Is(err, ErrInvalidJID) {
			t.Errorf("Delete(%q) = %v", j, err)
		}
		if _, err := s.Exists(ctx, j); !errors.Is(err, ErrInvalidJID) {
			t.Errorf("Exists(%q) = %v", j, err)
		}
		if _, err := s.Credentials(ctx, j, sasl.SHA1); !errors.Is(err, ErrInvalidJID) {
			t.Errorf("Credentials(%q) = %v", j, err)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	j := jid.MustParse("a@localhost")
	if err := s.Create(ctx, j, ""); !errors.Is(err, ErrWeakPassword) {
		t.Errorf("empty password: %v, want ErrWeakPassword", err)
	}
	if err := s.Create(ctx, j, "bad\x07bell"); !errors.Is(err, ErrInvalidPassword) {
		t.Errorf("control character: %v, want ErrInvalidPassword", err)
	}
	if ok, _ := s.Exists(ctx, j); ok {
		t.Fatal("account created despite a refused password")
	}
	// OpaqueString maps non-ASCII spaces to ASCII space: the client, which
	// prepares the same way, gets in with either form.
	if err := s.Create(ctx, j, "pass\u00a0word"); err != nil {
		t.Fatal(err)
	}
	c, err := s.Credentials(ctx, j, sasl.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !checkPassword(t, c, "pass word") {
		t.Error("password not prepared with OpaqueString")
	}
	if err := s.SetPassword(ctx, j, ""); !errors.Is(err, ErrWeakPassword) {
		t.Errorf("SetPassword empty: %v", err)
	}
}

func TestSetPasswordAndDelete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	j := jid.MustParse("bob@localhost")
	if err := s.SetPassword(ctx, j, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPassword on missing account: %v, want ErrNotFound", err)
	}
	if err := s.Create(ctx, j, "old"); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Credentials(ctx, j, sasl.SHA512)
	if err := s.SetPassword(ctx, j, "new"); err != nil {
		t.Fatal(err)
	}
	for _, h := range sasl.Hashes {
		c, err := s.Credentials(ctx, j, h)
		if err != nil {
			t.Fatal(err)
		}
		if !checkPassword(t, c, "new") || checkPassword(t, c, "old") {
			t.Errorf("%s: password not changed", h)
		}
	}
	after, _ := s.Credentials(ctx, j, sasl.SHA512)
	if bytes.Equal(before.Salt, after.Salt) {
		t.Error("salt not renewed")
	}

	if err := s.Delete(ctx, j); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Exists(ctx, j); ok {
		t.Error("account still exists")
	}
	if _, err := s.Credentials(ctx, j, sasl.SHA1); !errors.Is(err, ErrNotFound) {
		t.Errorf("credentials after delete: %v", err)
	}
	if err := s.Delete(ctx, j); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	// The JID can be registered again.
	if err := s.Create(ctx, j, "again"); err != nil {
		t.Fatal(err)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, j := range []string{"zed@b.org", "amy@b.org", "bob@a.org", "Carl@A.org"} {
		if err := s.Create(ctx, jid.MustParse(j), "pw"); err != nil {
			t.Fatal(err)
		}
	}
	strs := func(js []jid.JID) []string {
		var out []string
		for _, j := range js {
			out = append(out, j.String())
		}
		return out
	}
	all, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strs(all), []string{"bob@a.org", "carl@a.org", "amy@b.org", "zed@b.org"}; !slices.Equal(got, want) {
		t.Errorf("List() = %v, want %v", got, want)
	}
	b, err := s.List(ctx, "B.ORG")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strs(b), []string{"amy@b.org", "zed@b.org"}; !slices.Equal(got, want) {
		t.Errorf("List(b.org) = %v, want %v", got, want)
	}
	if none, err := s.List(ctx, "c.org"); err != nil || len(none) != 0 {
		t.Errorf("List(c.org) = %v, %v", none, err)
	}
	if _, err := s.List(ctx, "a b"); err == nil {
		t.Error("List accepted a malformed domain")
	}
}

// TestNoPasswordOnDisk checks that the password never reaches the
// database files (main file and WAL).
func TestNoPasswordOnDisk(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	db := openDB(t, cfg)
	s := NewStore(db, testIterations)
	const pw = "Very-Distinctive-Password-1234"
	if err := s.Create(ctx, jid.MustParse("p@localhost"), pw); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx, jid.MustParse("p@localhost"), pw+"2"); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(pw)) {
			t.Errorf("%s contains the password", f)
		}
	}
}

// TestTwoProcesses opens the same database twice, as the server and the
// CLI do, and checks that each sees the other's writes.
func TestTwoProcesses(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	server := NewStore(openDB(t, cfg), testIterations)
	cli := NewStore(openDB(t, cfg), testIterations)

	j := jid.MustParse("carol@localhost")
	if err := cli.Create(ctx, j, "one"); err != nil {
		t.Fatal(err)
	}
	c, err := server.Credentials(ctx, j, sasl.SHA256)
	if err != nil {
		t.Fatalf("server does not see the CLI's account: %v", err)
	}
	if !checkPassword(t, c, "one") {
		t.Error("server sees wrong credentials")
	}
	if err := server.SetPassword(ctx, j, "two"); err != nil {
		t.Fatal(err)
	}
	c, err = cli.Credentials(ctx, j, sasl.SHA256)
	if err != nil || !checkPassword(t, c, "two") {
		t.Errorf("CLI does not see the server's password change: %v", err)
	}

	// Concurrent writers on both handles.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 10 {
		for k, s := range []*Store{server, cli} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := jid.MustParse("u" + string(rune('a'+i)) + string(rune('0'+k)) + "@localhost")
				if err := s.Create(ctx, u, "pw"); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := cli.Delete(ctx, j); err != nil {
		t.Fatal(err)
	}
	if ok, err := server.Exists(ctx, j); err != nil || ok {
		t.Errorf("server still sees the deleted account: %v, %v", ok, err)
	}
	all, err := server.List(ctx, "localhost")
	if err != nil || len(all) != 20 {
		t.Errorf("List = %d accounts, %v; want 20", len(all), err)
	}
}

func BenchmarkCredentials(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	j := jid.MustParse("bench@localhost")
	if err := s.Create(ctx, j, "pw"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Credentials(ctx, j, sasl.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}
