// Package admin serves the administrative HTTP surface on [admin] addr
// (loopback by default): Prometheus /metrics and /healthz, optionally Go's
// /debug/pprof/ profiles (loopback clients only), the web console and the
// REST API under /api/v1.
//
// The console (console.go, auth.go) is server-rendered with html/template
// from embedded templates and one stylesheet; its only script refreshes
// the dashboard's figures. Console users are the accounts named in
// admin.users; they log in with their XMPP password, verified against the
// stored SCRAM keys (RFC 5802 §3: StoredKey = H(HMAC(SaltedPassword,
// "Client Key"))), so no password is ever stored here; a disabled account
// cannot log in. Logins are kept in the database (Store's *Login methods,
// only the SHA-256 of the cookie's value) so that a restart does not end
// them (an HttpOnly, SameSite=Strict cookie, Secure under TLS), expire
// after admin.session_ttl without use, and every form carries the login's
// CSRF token; failed logins are throttled per address and per account.
//
// The REST API (api.go) takes bearer tokens created by `parley token
// create` (stored as SHA-256 hashes, Store), answers JSON and JSON errors
// {"code", "message"}, and is described by openapi.json (OpenAPI 3.0),
// served at /api/v1/openapi.json. Every change made through either is
// written to the audit log (Store.Audit).
//
// Neither answers CORS: no Access-Control-* header is ever sent and
// cross-origin form posts are refused, so a web page elsewhere cannot
// drive the console with an administrator's cookie.
//
// What the console changes belongs to other packages, reached through the
// interfaces in backend.go, which internal/server implements: accounts
// (package account), sessions (the router's table, c2s.Info), shared
// roster groups and their live push (sharedgroup, roster), group chat
// rooms (muc). This package imports no feature.
package admin
