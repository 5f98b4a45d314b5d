"""Shared start-up for the aioxmpp interop scripts (Debian python3-aioxmpp).

client() builds a client as a user of aioxmpp would with its defaults:
STARTTLS to HOST:PORT and the library's own security layer (its SASL
mechanism choice). The only change is that the server's self-signed
certificate is trusted (CAFILE), which is the one setting the project
allows a test client. Found through PYTHONPATH, which
xmpptest.PythonCommand sets.
"""
import aioxmpp
import aioxmpp.connector
import aioxmpp.security_layer


def client(jid, password, host, port, cafile, status):
    """A PresenceManagedClient for JID that will be available with STATUS
    once connected."""
    def ssl_context():
        ctx = aioxmpp.security_layer.default_ssl_context()
        ctx.load_verify_locations(cafile)
        return ctx

    security = aioxmpp.make_security_layer(password, ssl_context_factory=ssl_context)
    c = aioxmpp.PresenceManagedClient(
        aioxmpp.JID.fromstr(jid), security,
        override_peer=[(host, int(port), aioxmpp.connector.STARTTLSConnector())])
    c.set_presence(aioxmpp.PresenceState(True), status)
    return c
