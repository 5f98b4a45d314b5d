package sasl

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"unicode/utf8"
)

// plainHashes is the order in which PLAIN looks for stored credentials.
var plainHashes = [...]Hash{SHA256, SHA512, SHA1}

// plainStep verifies a PLAIN message (RFC 4616):
//
//	message = [authzid] UTF8NUL authcid UTF8NUL passwd
//
// against the stored SCRAM credentials: it derives the salted password with
// the stored salt and iteration count and compares StoredKey.
func (s *Server) plainStep(ctx context.Context, in []byte) error {
	authzid, rest, ok1 := bytes.Cut(in, []byte{0})
	authcid, passwd, ok2 := bytes.Cut(rest, []byte{0})
	if !ok1 || !ok2 || len(authcid) == 0 || len(passwd) == 0 ||
		bytes.IndexByte(passwd, 0) >= 0 ||
		!utf8.Valid(authzid) || !utf8.Valid(authcid) || !utf8.Valid(passwd) {
		return malformed("invalid PLAIN message")
	}
	username := string(authcid)
	s.username, s.authzid = username, string(authzid)

	var creds Credentials
	found, exists := false, false
	for _, h := range plainHashes {
		c, err := s.lookupHash(ctx, username, h)
		if errors.Is(err, ErrUnknownUser) {
			continue
		}
		if errors.Is(err, ErrNoCredentials) {
			exists = true
			continue
		}
		if err != nil {
			return lookupFailure(err)
		}
		if !validCredentials(c, h) {
			return fail(TemporaryAuthFailure, "stored credentials unusable")
		}
		c.Hash = h
		creds, found = c, true
		break
	}
	if !found {
		creds = fakeCredentials(SHA256, username, s.opts.UnknownUserIterations)
	}
	// A password that OpaqueString rejects cannot be anyone's: fail as for
	// a wrong one, after the same work.
	prepared, err := PreparePassword(string(passwd))
	derived, derr := DeriveCredentials(creds.Hash, prepared, creds.Salt, creds.Iterations)
	if err != nil || derr != nil || !found ||
		subtle.ConstantTimeCompare(derived.StoredKey, creds.StoredKey) != 1 {
		return fail(NotAuthorized, "authentication failed").because(plainReason(found, exists))
	}
	return nil
}

// plainReason tells why a PLAIN login failed, for the server's log.
func plainReason(found, exists bool) string {
	switch {
	case found:
		return ReasonWrongPassword
	case exists:
		return ReasonNoCredentials
	}
	return ReasonUnknownUser
}

func (s *Server) lookupHash(ctx context.Context, username string, h Hash) (Credentials, error) {
	if s.opts.Lookup == nil {
		return Credentials{}, errors.New("no lookup configured")
	}
	return s.opts.Lookup(ctx, username, h)
}
