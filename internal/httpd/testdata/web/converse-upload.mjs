// converse.js in headless Chromium shares a file through XEP-0363.
//
// usage: node converse-upload.mjs PAGE_URL PEER TOKEN
//
// Opens PAGE_URL (converse.html, logged in over WebSocket), opens a chat
// with PEER and hands converse.js a file ("note TOKEN.txt", text/plain,
// TOKEN repeated to 64 KiB) as its file picker would (sendFiles): converse
// finds the upload service through disco, requests a slot, PUTs the file
// from the page's origin (a CORS preflight and PUT) and sends PEER the GET
// URL. Waits until PEER answers "got TOKEN". Chromium trusts the server's
// self-signed certificate only (SPKI in env PARLEY_SPKI). Exits 0 once the
// answer arrived.
import { runConverse } from "./converse-page.mjs";

const [pageURL, peer, token] = process.argv.slice(2);
await runConverse(pageURL, [`--ignore-certificate-errors-spki-list=${process.env.PARLEY_SPKI}`], async (page) => {
  await page.evaluate(async ([peer, token]) => {
    const chat = await window.parley.api.chats.open(peer);
    const text = token.repeat(Math.ceil(65536 / token.length)).slice(0, 65536);
    await chat.sendFiles([new File([text], `note ${token}.txt`, { type: "text/plain" })]);
  }, [peer, token]);
  console.log("SENT");
  await page.waitForFunction((t) => window.parley.got.includes(`got ${t}`), token, { timeout: 45000 });
  console.log("RECEIVED", `got ${token}`);
});
