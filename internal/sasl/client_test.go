package sasl

// The tests' SCRAM client is scramtest.Client (written from RFC 5802,
// independent of the server code); testClient keeps the field names the
// tests use and hands them over at each step, so a test may tamper with a
// field between steps.

import "github.com/parleyim/parley/internal/sasl/scramtest"

type testClient struct {
	hashName string // "SHA-1", "SHA-256", "SHA-512"
	user     string
	password string
	authzid  string
	flag     string // "n", "y" or "p=<cb-name>"
	cbData   []byte // channel binding data for flag p
	nonce    string // client nonce

	// Tampering, for the failure tests.
	cbOverride    *string // replaces the c= value
	nonceOverride *string // replaces the r= value of client-final
	proofMutate   func([]byte)
	finalMutate   func(string) string

	c scramtest.Client
}

func (c *testClient) sync() {
	c.c.Hash, c.c.User, c.c.Password, c.c.Authzid = c.hashName, c.user, c.password, c.authzid
	c.c.Flag, c.c.CBData, c.c.Nonce = c.flag, c.cbData, c.nonce
	c.c.CBOverride, c.c.NonceOverride, c.c.ProofMutate, c.c.FinalMutate = c.cbOverride, c.nonceOverride, c.proofMutate, c.finalMutate
}

func (c *testClient) first() []byte {
	c.sync()
	b := c.c.First()
	c.flag, c.nonce = c.c.Flag, c.c.Nonce
	return b
}

func (c *testClient) final(serverFirst []byte) ([]byte, error) {
	c.sync()
	return c.c.Final(serverFirst)
}

func (c *testClient) verify(serverFinal []byte) error { return c.c.Verify(serverFinal) }
