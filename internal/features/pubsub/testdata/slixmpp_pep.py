"""Interop check: slixmpp's XEP-0163 and XEP-0172 plugins (with XEP-0115
caps, which the server verifies by asking for disco#info) publish the
user's nickname and wait for a contact's nickname notification.

usage: slixmpp_pep.py JID PASSWORD HOST PORT CAFILE PEER MYNICK WANTNICK
Prints "PUBLISHED" once the publish is acknowledged and "OK <nick> from
<peer>" when the peer's nickname arrives; once both happened it exits 0,
and 1 if SLIX_TIMEOUT seconds (default 30) ran out first. "DISCO-INFO asked
by <jid>" is printed for each disco#info query received. SLIX_FEATURE adds
a disco feature (and so changes the caps hash). With SLIX_BARRIER (a
directory) the client, once done, stays online until SLIX_CLIENTS (default
2) clients have marked themselves done there."""
import asyncio
import os
import sys

import slixmpp

import parleyslix

jid, password, host, port, cafile, peer, mynick, wantnick = sys.argv[1:9]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        self.published = False
        for p in ("xep_0030", "xep_0115", "xep_0060", "xep_0163", "xep_0172"):
            self.register_plugin(p)
        if os.environ.get("SLIX_FEATURE"):
            # another feature, so that this client's caps hash differs
            self.plugin["xep_0030"].add_feature(os.environ["SLIX_FEATURE"])
        self.add_filter("in", self.seen)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("user_nick_publish", self.nick)

    async def start(self, _event):
        self.send_presence()
        await self.get_roster()
        await self.plugin["xep_0172"].publish_nick(mynick)
        print("PUBLISHED", flush=True)
        self.published = True
        self.done()

    def done(self):
        # Only once both happened: the peer's item may arrive before our
        # own publish, which the peer is waiting for.
        if not (self.ok and self.published):
            return
        barrier = os.environ.get("SLIX_BARRIER")
        if not barrier:
            self.disconnect()
            return
        # Stay online until every client of the run is done: a peer's
        # server may still be asking us for our capabilities on behalf
        # of its user (an answer to a user who left is lost).
        open(os.path.join(barrier, jid.replace("/", "_")), "w").close()
        self.loop.create_task(self.wait_barrier(barrier))

    async def wait_barrier(self, barrier):
        while len(os.listdir(barrier)) < int(os.environ.get("SLIX_CLIENTS", "2")):
            await asyncio.sleep(0.1)
        self.disconnect()

    def seen(self, stanza):
        if stanza.name == "iq" and stanza["type"] == "get" and \
                stanza.xml.find("{http://jabber.org/protocol/disco#info}query") is not None:
            print("DISCO-INFO asked by", stanza["from"], flush=True)
        return stanza

    def nick(self, msg):
        got = msg["pubsub_event"]["items"]["item"]["nick"]["nick"]
        if msg["from"].bare == peer and got == wantnick:
            print("OK", got, "from", peer, flush=True)
            self.ok = True
            self.done()


c = Client()
parleyslix.run(c, cafile, host, port, seconds=float(os.environ.get("SLIX_TIMEOUT", "30")),
               ok=lambda: c.ok and c.published)
