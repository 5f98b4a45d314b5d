// @xmpp/client (xmpp.js) over WebSocket (RFC 7395) with its default settings.
//
// usage: node --experimental-websocket xmppjs-websocket.mjs JID PASSWORD URL PEER TOKEN
//
// Connects to URL (wss://HOST:PORT/xmpp-websocket) for JID's domain, adds
// PEER to the roster, reads the roster back, sends "ping TOKEN" to PEER
// and waits for "pong TOKEN". The server's self-signed certificate is
// trusted through NODE_EXTRA_CA_CERTS (set by the test). Progress goes to
// stdout as ONLINE/ROSTER/SENT/RECEIVED lines. Exits 0 once the reply
// arrived, 1 otherwise.
import { client, xml } from "@xmpp/client";

const [jid, password, url, peer, token] = process.argv.slice(2);
const [username, domain] = jid.split("@");

const xmpp = client({ service: url, domain, username, password });
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
  const roster = await xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
  const items = roster.getChild("query").getChildren("item").map((i) => i.attrs.jid);
  console.log("ROSTER", items.join(" "));
  await xmpp.send(xml("message", { to: peer, type: "chat" }, xml("body", {}, `ping ${token}`)));
  console.log("SENT");
});

xmpp.start().catch((err) => {
  console.log("FAILED:", err.condition || "", err.message);
  process.exit(1);
});
