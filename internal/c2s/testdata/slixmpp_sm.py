"""Interop check: slixmpp's XEP-0198 plugin, with its defaults (resume
allowed, an ack request every 5 stanzas), enables stream management, loses
its connection abruptly, reconnects and resumes the session; the messages
sent to it while it was gone arrive after the resume, each once.

usage: slixmpp_sm.py JID PASSWORD HOST PORT CAFILE PEER GOFILE N
After the first message from PEER it sends "dropping" to PEER and aborts
the TCP connection, waits until the file GOFILE exists (the test created it
once PEER sent N messages "gap K" into the gap), reconnects and resumes.
Prints "ENABLED <resume>", "RESUMED", "GOT <body>" per message and
"OK <n>" when all N arrived once; exits 0 on success, 1 otherwise."""
import asyncio
import logging
import os
import sys

import slixmpp

jid, password, host, port, cafile, peer, gofile, n = sys.argv[1:9]
n = int(n)


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.register_plugin("xep_0198")
        self.ok = False
        self.dropped = False
        self.reconnecting = False
        self.finished = self.loop.create_future()
        self.gap = {}
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("sm_enabled", lambda st: print("ENABLED", st["resume"], flush=True))
        self.add_event_handler("session_resumed", lambda _: print("RESUMED", flush=True))
        self.add_event_handler("message", self.message)
        self.add_event_handler("disconnected", self.on_disconnected)

    async def start(self, _event):
        self.send_presence()
        self.send_message(mto=peer, mbody="hello", mtype="chat")

    def message(self, msg):
        body = msg["body"]
        print("GOT", body, flush=True)
        if body == "first" and not self.dropped:
            self.dropped = True
            self.send_message(mto=peer, mbody="dropping", mtype="chat")
            self.loop.call_later(0.2, self.abort)
        elif body.startswith("gap "):
            self.gap[body] = self.gap.get(body, 0) + 1
            if len(self.gap) == n:
                if all(v == 1 for v in self.gap.values()):
                    print("OK", n, flush=True)
                    self.ok = True
                self.send_message(mto=peer, mbody="done", mtype="chat")
                self.loop.call_later(0.5, self.disconnect)

    async def on_disconnected(self, _event):
        if not self.dropped or self.reconnecting:
            if not self.finished.done():
                self.finished.set_result(None)
            return
        self.reconnecting = True
        while not os.path.exists(gofile):
            await asyncio.sleep(0.05)
        self.connect(address=(host, int(port)), force_starttls=True)


logging.basicConfig(level=logging.DEBUG if os.environ.get("SLIX_DEBUG") else logging.WARNING)
c = Client()
c.ssl_context.load_verify_locations(cafile)
c.connect(address=(host, int(port)), force_starttls=True)
try:
    c.loop.run_until_complete(asyncio.wait_for(c.finished, 45))
except asyncio.TimeoutError:
    print("TIMEOUT", flush=True)
sys.exit(0 if c.ok else 1)
