"""Interop check: aioxmpp (an independent client) logs in with initial
presence; the messages stored for it while it was offline must arrive in
order, each with an XEP-0203 delay stamp.

usage: aioxmpp_offline.py JID PASSWORD HOST PORT CAFILE BODY...
Prints "OK" and exits 0 on success, exits 1 otherwise."""
import asyncio
import logging
import os
import sys

import aioxmpp
import aioxmpp.misc  # registers the XEP-0203 delay payload

import parleyaio

jid, password, host, port, cafile = sys.argv[1:6]
want = sys.argv[6:]


async def main():
    client = parleyaio.client(jid, password, host, port, cafile, "back")
    got, done = [], asyncio.Event()

    def on_message(msg):
        if msg.type_ == aioxmpp.MessageType.ERROR:
            return
        if getattr(msg.xep0203_delay, "stamp", None) is None and not msg.xep0203_delay:
            print("NO DELAY on", msg.body.any(), flush=True)
            done.set()
            return
        got.append(msg.body.any())
        if len(got) == len(want):
            done.set()

    dispatcher = client.summon(aioxmpp.dispatcher.SimpleMessageDispatcher)
    dispatcher.register_callback(None, None, on_message)
    async with client.connected():
        await asyncio.wait_for(done.wait(), 30)
    print("OK" if got == want else "GOT " + repr(got), flush=True)
    return got == want


logging.basicConfig(level=logging.DEBUG if os.environ.get("AIO_DEBUG") else logging.WARNING)
try:
    ok = asyncio.run(main())
except Exception as e:  # noqa: BLE001 - report any failure as exit 1
    print("FAILED:", type(e).__name__, e, flush=True)
    ok = False
sys.exit(0 if ok else 1)
