"""Client matrix: aioxmpp with its default settings.

usage: aioxmpp_client.py JID PASSWORD HOST PORT CAFILE PEER TOKEN

Logs in to HOST:PORT over STARTTLS with aioxmpp's default security layer
(its own SASL mechanism choice), trusting CAFILE (the server's self-signed
certificate: the one setting the matrix allows), adds PEER to the roster,
sends "ping TOKEN" to PEER and waits for "pong TOKEN" back. Progress goes
to stdout as ONLINE/ROSTER/SENT/RECEIVED lines; each SASL mechanism it
starts is written to stderr as an <auth/> element (aioxmpp's own log mutes
SASL), for the harness. Exits 0 once the reply arrived, 1 otherwise."""
import asyncio
import base64
import sys

import aiosasl
import aioxmpp

import parleyaio

jid, password, host, port, cafile, peer, token = sys.argv[1:8]
peer_jid = aioxmpp.JID.fromstr(peer)

# Observation only: record what the client starts, then let it proceed.
_initiate = aiosasl.SASLStateMachine.initiate


async def initiate(self, mechanism, payload=None):
    data = base64.b64encode(payload or b"").decode()
    print(f"<auth mechanism='{mechanism}'>{data}</auth>", file=sys.stderr, flush=True)
    return await _initiate(self, mechanism, payload)


aiosasl.SASLStateMachine.initiate = initiate


async def main():
    client = parleyaio.client(jid, password, host, port, cafile, "")
    roster = client.summon(aioxmpp.RosterClient)
    received = asyncio.Event()

    def on_message(msg):
        if msg.body.any() == "pong " + token:
            print("RECEIVED", msg.body.any(), "from", msg.from_, flush=True)
            received.set()

    dispatcher = client.summon(aioxmpp.dispatcher.SimpleMessageDispatcher)
    dispatcher.register_callback(aioxmpp.MessageType.CHAT, None, on_message)
    async with client.connected() as stream:
        print("ONLINE", client.local_jid, flush=True)
        await roster.set_entry(peer_jid)
        print("ROSTER added", peer, flush=True)
        msg = aioxmpp.Message(to=peer_jid, type_=aioxmpp.MessageType.CHAT)
        msg.body[None] = "ping " + token
        await stream.send(msg)
        print("SENT", flush=True)
        await asyncio.wait_for(received.wait(), 45)
    return True


try:
    ok = asyncio.run(main())
except Exception as e:  # noqa: BLE001 - report any failure as exit 1
    print("FAILED:", type(e).__name__, e, flush=True)
    ok = False
sys.exit(0 if ok else 1)
