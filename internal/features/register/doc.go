// Package register implements XEP-0077: In-Band Registration, for the
// server's own accounts.
//
// Before authentication (over TLS when TLS is required), and only when
// allow_registration is on, a client asks for the fields (§3.1, an iq get)
// and creates an account with a username and password (an iq set);
// creation is throttled per IP address (limits.registrations_per_ip_per_hour,
// loopback exempt with limits.exempt_loopback), and the stream feature
// <register xmlns='http://jabber.org/features/iq-register'/> (§8) is
// offered. Whatever the setting, a logged-in user may change the password
// (§3.3) or remove the account (§3.2): removal deletes it and then ends
// every session of the user with a <not-authorized/> stream error.
//
// It owns the registration policy: which usernames and passwords are
// acceptable (MinPasswordLength) and which errors answer what. It does not
// store accounts (account.Store), count addresses (limits), or carry the
// iqs before authentication (c2s, through module.PreAuthIQ). Data forms
// (§4), redirection (§5) and registration with other services are not
// implemented; data stored by other modules for a removed account is not
// deleted here.
package register
