package storagetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

// Iterations is the PBKDF2 count of accounts the suite creates: low, since
// the key derivation is not what is tested.
const Iterations = 64

// Env is what a case gets: the database, the account store, and a domain
// of its own, so that cases sharing a database do not see each other.
type Env struct {
	Ctx      context.Context
	DB       *storage.DB
	Accounts *account.Store
	Domain   string
}

// User creates the account local@Domain with password "pw".
func (e *Env) User(t *testing.T, local string) jid.JID {
	t.Helper()
	j, err := jid.New(local, e.Domain, "")
	if err != nil {
		t.Fatalf("user %q: %v", local, err)
	}
	if err := e.Accounts.Create(e.Ctx, j, "pw"); err != nil {
		t.Fatalf("create %s: %v", j, err)
	}
	return j
}

// JID parses s with "@D" standing for the case's domain.
func (e *Env) JID(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(replaceDomain(s, e.Domain))
	if err != nil {
		t.Fatalf("jid %q: %v", s, err)
	}
	return j
}

func replaceDomain(s, d string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		if s[i] == '@' && i+1 < len(s) && s[i+1] == 'D' && (i+2 == len(s) || s[i+2] == '/') {
			out = append(out, '@')
			out = append(out, d...)
			i++
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

// Case is one test of the suite.
type Case struct {
	Name string
	Run  func(t *testing.T, e *Env)
}

// Cases is the suite, grouped by store. Later stores append their groups.
func Cases() []Case {
	var all []Case
	groups := [][]Case{
		accountCases, recordCases, queueCases, rosterCases, presenceCases, sharedGroupCases,
		mucCases,
		adhocCases,
		archiveCases,
		pubsubCases,
		adminCases,
		fastCases,
		uploadCases,
		pushDeviceCases,
		txCases,
	}
	for _, group := range groups {
		all = append(all, group...)
	}
	return all
}

// Run runs every case on one fresh database of driver (skipped when the
// engine is not available, see ServerDSN). Cases run one after the other,
// each in its own domain.
func Run(t *testing.T, driver string) {
	db := Open(t, driver)
	t.Logf("engine: %s", Describe(t, db))
	t.Run("schema", func(t *testing.T) { checkSchema(t, db) })
	accounts := account.NewStore(db, Iterations)
	for i, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			c.Run(t, &Env{Ctx: context.Background(), DB: db, Accounts: accounts, Domain: fmt.Sprintf("case%d.example", i)})
		})
	}
}
