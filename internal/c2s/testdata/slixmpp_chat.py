"""Interop check: slixmpp (an independent client) logs in over STARTTLS,
sends a chat message to a peer and waits for the peer's reply.

usage: slixmpp_chat.py JID PASSWORD HOST PORT CAFILE PEER MECH
Prints "OK <reply body>" and exits 0 on success, exits 1 otherwise."""
import asyncio
import logging
import sys

import slixmpp

jid, password, host, port, cafile, peer, mech = sys.argv[1:8]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.message)
        self.add_event_handler("failed_auth", self.failed)

    async def start(self, _event):
        self.send_presence()
        self.send_message(mto=peer, mbody="hello from slixmpp", mtype="chat")

    def message(self, msg):
        if msg["type"] == "chat" and msg["body"].startswith("reply"):
            print("OK", msg["body"], "from", msg["from"], flush=True)
            self.ok = True
            self.disconnect()

    def failed(self, _event):
        print("AUTH FAILED", flush=True)
        self.disconnect()


logging.basicConfig(level=logging.WARNING)
c = Client()
c.ssl_context.load_verify_locations(cafile)
if mech:
    c["feature_mechanisms"].use_mech = mech
c.connect(address=(host, int(port)), force_starttls=True)
c.process(timeout=30)
sys.exit(0 if c.ok else 1)
