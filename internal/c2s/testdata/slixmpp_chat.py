"""Interop check: slixmpp (an independent client) logs in over STARTTLS,
sends a chat message to a peer and waits for the peer's reply.

usage: slixmpp_chat.py JID PASSWORD HOST PORT CAFILE PEER MECH TLSMAX
MECH forces a SASL mechanism ("" leaves slixmpp's default choice); nothing
else about SASL is changed, so slixmpp offers its channel binding
(tls-unique) as it always does. TLSMAX is "1.2" to cap the TLS version, or
"" for the default (TLS 1.3). Prints "CONNECTED" for each TCP connection,
"AUTH FAILED <mechanism> <condition>" for each SASL failure, "MECH <mechanism> <TLS version>" after
authenticating and "OK <reply body>" after the reply; exits 0 on success,
1 otherwise."""
import asyncio
import logging
import ssl
import os
import sys

import slixmpp

jid, password, host, port, cafile, peer, mech, tlsmax = sys.argv[1:9]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.message)
        self.add_event_handler("failed_auth", self.failed)
        self.add_event_handler("auth_success", self.auth_success)
        self.add_event_handler("connected", lambda _: print("CONNECTED", flush=True))

    def auth_success(self, _event):
        print("MECH", self["feature_mechanisms"].mech.name, self.socket.version(), flush=True)

    async def start(self, _event):
        self.send_presence()
        self.send_message(mto=peer, mbody="hello from slixmpp", mtype="chat")

    def message(self, msg):
        if msg["type"] == "chat" and msg["body"].startswith("reply"):
            print("OK", msg["body"], "from", msg["from"], flush=True)
            self.ok = True
            self.disconnect()

    def failed(self, stanza):
        # slixmpp goes on to its next mechanism by itself.
        print("AUTH FAILED", self["feature_mechanisms"].mech.name, stanza["condition"], flush=True)


logging.basicConfig(level=logging.DEBUG if os.environ.get("SLIX_DEBUG") else logging.WARNING)
c = Client()
c.ssl_context.load_verify_locations(cafile)
if tlsmax == "1.2":
    c.ssl_context.maximum_version = ssl.TLSVersion.TLSv1_2
if mech:
    c["feature_mechanisms"].use_mech = mech
c.connect(address=(host, int(port)), force_starttls=True)
c.loop.call_later(30, c.disconnect)  # process(timeout=) is broken in slixmpp 1.8 on Python 3.11
c.process(forever=False)
sys.exit(0 if c.ok else 1)
