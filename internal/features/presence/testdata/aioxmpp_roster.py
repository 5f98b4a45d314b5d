"""Interop check: aioxmpp (an independent client) logs in with initial
presence, subscribes to a peer, approves the peer's request, and waits
until its roster shows the peer with subscription 'both' and it has the
peer's presence. Then it changes its status and disconnects.

usage: aioxmpp_roster.py JID PASSWORD HOST PORT CAFILE PEER PEERSTATUS
Prints "OK ..." and exits 0 on success, exits 1 otherwise."""
import asyncio
import logging
import os
import sys

import aioxmpp

import parleyaio

jid, password, host, port, cafile, peer, peer_status = sys.argv[1:8]
peer_jid = aioxmpp.JID.fromstr(peer)


async def main():
    client = parleyaio.client(jid, password, host, port, cafile, "aio here")
    roster = client.summon(aioxmpp.RosterClient)
    presence = client.summon(aioxmpp.PresenceClient)
    done = asyncio.Event()
    state = {"seen": False}

    def check(*_args):
        item = roster.items.get(peer_jid)
        if state["seen"] and item is not None and item.subscription == "both":
            done.set()

    def on_subscribe(st):
        if st.from_.bare() == peer_jid:
            roster.approve(peer_jid)

    def on_available(full, st):
        if full.bare() == peer_jid and st.status.any() == peer_status:
            state["seen"] = True
            check()

    roster.on_subscribe.connect(on_subscribe)
    roster.on_entry_added.connect(check)
    roster.on_entry_subscription_state_changed.connect(check)
    presence.on_available.connect(on_available)
    presence.on_changed.connect(on_available)
    async with client.connected():
        roster.subscribe(peer_jid)
        await asyncio.wait_for(done.wait(), 30)
        print("OK roster", peer, "both; presence", peer_status, flush=True)
        client.set_presence(aioxmpp.PresenceState(True), "py done")
        await asyncio.sleep(0.5)
    return True


logging.basicConfig(level=logging.DEBUG if os.environ.get("AIO_DEBUG") else logging.WARNING)
try:
    ok = asyncio.run(main())
except Exception as e:  # noqa: BLE001 - report any failure as exit 1
    print("FAILED:", type(e).__name__, e, flush=True)
    ok = False
sys.exit(0 if ok else 1)
