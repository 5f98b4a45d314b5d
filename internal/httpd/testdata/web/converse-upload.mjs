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
import { chromium } from "playwright-core";

const [pageURL, peer, token] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    `--ignore-certificate-errors-spki-list=${process.env.PARLEY_SPKI}`],
});
let code = 1;
try {
  const page = await browser.newPage();
  page.on("console", (m) => process.stderr.write(`console ${m.type()}: ${m.text()}\n`));
  page.on("pageerror", (e) => process.stderr.write(`pageerror: ${e}\n`));
  page.on("requestfailed", (r) => process.stderr.write(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}\n`));
  await page.route((u) => u.hostname !== "localhost" && u.hostname !== "127.0.0.1", (route) => route.abort());
  await page.goto(pageURL);
  await page.waitForFunction(() => window.parley && window.parley.connected, null, { timeout: 30000 });
  console.log("CONNECTED");
  await page.evaluate(async ([peer, token]) => {
    const chat = await window.parley.api.chats.open(peer);
    const text = token.repeat(Math.ceil(65536 / token.length)).slice(0, 65536);
    await chat.sendFiles([new File([text], `note ${token}.txt`, { type: "text/plain" })]);
  }, [peer, token]);
  console.log("SENT");
  await page.waitForFunction((t) => window.parley.got.includes(`got ${t}`), token, { timeout: 45000 });
  console.log("RECEIVED", `got ${token}`);
  code = 0;
} catch (e) {
  console.log("FAILED:", e.message);
} finally {
  await browser.close();
}
process.exit(code);
