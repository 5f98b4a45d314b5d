"""Shared start-up for the slixmpp interop scripts (Debian python3-slixmpp).

run() connects a client exactly as a user of slixmpp would with its
defaults: STARTTLS, the library's own TLS version and SASL mechanism choice
(including its channel binding). The only change is that the server's
self-signed certificate is trusted (CAFILE), which is the one setting the
project allows a test client. Scripts set client.ok when they succeed.
Found through PYTHONPATH, which xmpptest.PythonCommand sets.
"""
import logging
import os
import sys

import slixmpp


class Checker(slixmpp.ClientXMPP):
    """A client that registers PLUGINS and, once its session has started,
    runs its check() coroutine, then disconnects; an exception from check()
    is printed as a failure (client.ok stays False)."""

    def __init__(self, jid, password, plugins):
        super().__init__(jid, password)
        self.ok = False
        for p in plugins:
            self.register_plugin(p)
        self.add_event_handler("session_start", self._start)

    async def _start(self, _event):
        try:
            await self.check()
        except Exception as e:  # report anything as a failure
            print("FAILED:", repr(e), flush=True)
        self.disconnect()


def run(client, cafile, host, port, seconds=30, ok=None):
    """Connect client to HOST:PORT, run it for at most SECONDS, and exit 0
    if ok() holds at the end (by default: client.ok was set), 1 otherwise."""
    logging.basicConfig(level=logging.DEBUG if os.environ.get("SLIX_DEBUG") else logging.WARNING)
    client.ssl_context.load_verify_locations(cafile)
    # A refused mechanism is reported and slixmpp goes on to its next one,
    # as it does for any user; only when all have failed does the run end.
    client.add_event_handler("failed_auth", lambda _e: print("AUTH FAILED (trying the next mechanism)", flush=True))
    client.add_event_handler("failed_all_auth", lambda _e: (print("AUTH FAILED on every mechanism", flush=True), client.disconnect()))
    client.connect(address=(host, int(port)))
    # process(timeout=) is broken in slixmpp 1.8 on Python 3.11: bound the run here.
    client.loop.call_later(seconds, client.disconnect)
    client.process(forever=False)
    sys.exit(0 if (ok() if ok else client.ok) else 1)
