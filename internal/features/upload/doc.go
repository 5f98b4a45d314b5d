// Package upload is XEP-0363 HTTP File Upload (urn:xmpp:http:upload:0): a
// service on upload.<domain> (module.Service) that hands a local user a
// slot, a signed PUT URL and a GET URL, and the http.Handler that takes
// the PUT and serves the GET on the public HTTP server (internal/httpd
// mounts it under /upload/; it does not know this package).
//
// What it owns: the upload_slots table (Store, migration 00011), the files
// under the upload directory, the signing secret (dir/.secret), the
// sweeper that deletes expired files and unused slots.
//
// Rules: a slot takes exactly one PUT, of exactly the announced size and
// content type, before its deadline; the PUT URL carries an HMAC over the
// slot's id, size, content type and deadline, so the GET URL (which may be
// shared) cannot be used to upload. Files are named on disk by the slot's
// random id only and streamed to disk (never held whole in memory); a
// partial file is written O_EXCL and linked into place, so no PUT can
// replace a file, its own or another slot's. The owner's quota counts
// files not yet expired and open slots (§5 errors: file-too-large as
// not-acceptable, quota as resource-constraint, a bad filename as
// bad-request).
//
// Deleting an account leaves its files in place until they expire (the
// records are not tied to the account; the GET URLs may have been shared).
//
// What it does not own: the HTTP listeners, TLS and the public address
// (the server wiring passes a BaseURL function).
package upload
