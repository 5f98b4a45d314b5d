// Package pushapp is Parley's built-in XEP-0357 App Server: a service on
// push.<each served domain> (push.appserver.subdomain) that receives the
// notifications a user's server publishes (XEP-0357 §7, a XEP-0060
// publish with publish-options) and delivers them to the phone through
// Apple's APNs or Google's FCM, so that no separate push service is
// needed.
//
// Registration, which XEP-0357 leaves to the app, is by XEP-0050 ad-hoc
// commands on the user's own server JID: register-push-apns (fields
// token, topic = the app's bundle id, sandbox) and register-push-fcm
// (field token) answer a result form with the app server's jid, a fresh
// random node and secret, which the app then passes to <enable/> (package
// push, §5) as jid, node and the publish-options secret; unregister-push
// (field node) removes a device. Devices are stored per account in
// storage.PushDevices (the secret as SHA-256 only) and go with the
// account's XEP-0227 export (userdata.go). Only accounts of this server
// register devices; a publish is accepted from anyone who knows the node
// and its secret, so an app logged in to accounts on other servers too
// can enable push there with the same node, and those servers publish
// over s2s.
//
// A publish is checked (known, enabled node; the secret) in Route and
// queued; a bounded pool of workers (push.appserver.workers) delivers and
// then answers the publish, so the router never waits on a provider.
//
//   - APNs: HTTP/2 POST /3/device/<token> with a provider token, an ES256
//     JWT (header kid = key id; claims iss = team id, iat) signed with the
//     .p8 key, reused for APNsTokenLifetime and signed anew when APNs
//     answers 403 ExpiredProviderToken (then the request is tried once
//     more); headers apns-topic, apns-push-type, apns-priority,
//     apns-expiration and apns-collapse-id; the payload's aps carries an
//     alert (no message body) and the summary's message-count and
//     last-message-sender sit beside it when configured.
//   - FCM HTTP v1: POST /v1/projects/<project>/messages:send with an
//     OAuth2 access token obtained from the service account by the JWT
//     bearer grant (RFC 7523, an RS256 assertion to token_uri) and cached
//     until a minute before it expires (a 401 obtains a new one once); a
//     data message with android priority high.
//
// Outcomes: a token the provider calls dead (APNs 410 or 400
// BadDeviceToken/DeviceTokenNotForTopic; FCM 404 or UNREGISTERED, 400
// INVALID_ARGUMENT) disables the device and answers the publish with
// item-not-found, so the user's server disables its registration too
// (XEP-0357 §8); 429 and 5xx are tried again push.appserver.retries times
// with a doubling backoff, then answered internal-server-error of type
// wait (which keeps the registration). Metrics: parley_push_deliveries_total
// by provider and result.
//
// It does not own the user's-server side (package push) nor ad-hoc
// command sessions (package adhoc).
package pushapp
