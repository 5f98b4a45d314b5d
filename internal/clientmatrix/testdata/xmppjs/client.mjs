// Client matrix: @xmpp/client (xmpp.js) with its default settings.
//
// usage: node client.mjs JID PASSWORD HOST PORT PEER TOKEN
//
// Connects to xmpp://HOST:PORT (TCP, STARTTLS) for JID's domain with the
// library's own SASL mechanism choice, adds PEER to the roster, sends
// "ping TOKEN" to PEER and waits for "pong TOKEN" back. The self-signed
// certificate is trusted through NODE_EXTRA_CA_CERTS (set by the harness:
// the one setting the matrix allows). Progress goes to stdout as
// ONLINE/ROSTER/SENT/RECEIVED lines; every element sent is written to
// stderr (the harness reads the SASL exchange from it). Exits 0 once the
// reply arrived, 1 otherwise.
import { client, xml } from "@xmpp/client";

const [jid, password, host, port, peer, token] = process.argv.slice(2);
const [username, domain] = jid.split("@");

const xmpp = client({ service: `xmpp://${host}:${port}`, domain, username, password });
xmpp.on("send", (el) => process.stderr.write(`SEND: ${el.toString()}\n`));
xmpp.on("error", (err) => console.log("ERROR", err.condition || "", err.message));

const timer = setTimeout(() => {
  console.log("FAILED: timeout");
  process.exit(1);
}, 45000);

xmpp.on("stanza", async (st) => {
  if (st.is("message") && st.getChildText("body") === `pong ${token}`) {
    console.log("RECEIVED", st.getChildText("body"), "from", st.attrs.from);
    clearTimeout(timer);
    await xmpp.stop();
    process.exit(0);
  }
});

xmpp.on("online", async (address) => {
  console.log("ONLINE", address.toString());
  await xmpp.send(xml("presence"));
  await xmpp.iqCaller.request(
    xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: peer }))),
  );
  console.log("ROSTER added", peer);
  await xmpp.send(xml("message", { to: peer, type: "chat" }, xml("body", {}, `ping ${token}`)));
  console.log("SENT");
});

xmpp.start().catch((err) => {
  console.log("FAILED:", err.condition || "", err.message);
  process.exit(1);
});
