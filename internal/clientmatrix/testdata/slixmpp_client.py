"""Client matrix: slixmpp with its default settings.

usage: slixmpp_client.py JID PASSWORD HOST PORT CAFILE PEER TOKEN

Logs in to HOST:PORT (slixmpp's default: STARTTLS required, its own SASL
mechanism choice), trusting only CAFILE (the server's self-signed
certificate: the one setting the matrix allows), adds PEER to the roster,
sends "ping TOKEN" to PEER and waits for "pong TOKEN" back. Progress goes
to stdout as ONLINE/ROSTER/SENT/RECEIVED lines; slixmpp's own record of
the XML it sent goes to stderr (the harness reads the SASL exchange from
it). Exits 0 once the reply arrived, 1 otherwise."""
import logging
import sys

import slixmpp

jid, password, host, port, cafile, peer, token = sys.argv[1:8]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.message)
        self.add_event_handler("failed_auth", lambda _e: print("AUTH FAILED", flush=True))

    async def start(self, _event):
        print("ONLINE", self.boundjid.full, flush=True)
        self.send_presence()
        await self.get_roster()
        await self.update_roster(peer)
        print("ROSTER added", peer, flush=True)
        self.send_message(mto=peer, mbody="ping " + token, mtype="chat")
        print("SENT", flush=True)

    def message(self, msg):
        if msg["body"] == "pong " + token:
            print("RECEIVED", msg["body"], "from", msg["from"], flush=True)
            self.ok = True
            self.disconnect()


# Observation only: slixmpp logs every element it sends at DEBUG.
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
logging.getLogger("slixmpp.xmlstream.xmlstream").setLevel(logging.DEBUG)
c = Client()
c.ssl_context.load_verify_locations(cafile)
c.connect(address=(host, int(port)))
c.loop.call_later(45, c.disconnect)  # process(timeout=) is broken in slixmpp 1.8 on Python 3.11
c.process(forever=False)
sys.exit(0 if c.ok else 1)
