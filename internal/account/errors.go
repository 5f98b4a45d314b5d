package account

import "errors"

// Errors returned (wrapped) by Store; test with errors.Is.
var (
	// ErrExists means the account already exists.
	ErrExists = errors.New("account already exists")
	// ErrNotFound means there is no such account.
	ErrNotFound = errors.New("account not found")
	// ErrNoHash means the account exists but has no credentials for the
	// hash asked for (created while fewer hashes were configured, see
	// Store.UseHashes, or imported).
	ErrNoHash = errors.New("account has no credentials for this hash")
	// ErrInvalidJID means the JID is not a bare JID with a localpart
	// (user@domain).
	ErrInvalidJID = errors.New("account JID must be a bare JID with a localpart (user@domain)")
	// ErrWeakPassword means the password does not satisfy the password
	// policy (it is empty).
	ErrWeakPassword = errors.New("password is empty")
	// ErrInvalidPassword means the password contains characters the
	// PRECIS OpaqueString profile forbids (control characters, for
	// example).
	ErrInvalidPassword = errors.New("password contains characters that are not allowed")
)
