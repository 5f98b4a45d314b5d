// Drives Parley's admin console in headless Chromium, the way an
// administrator would, by labels and button names only (no knowledge of
// the server's internals). Run by TestBrowserConsole (internal/admin):
//
//   node console.mjs BASE ADMIN PASSWORD ARTIFACTS
//
// It talks to the Go test over a line protocol: it prints "CREATED <jid>"
// once the user exists and waits for "CONNECTED <full jid>" on stdin (the
// Go test logs that user in with a real XMPP client, and sends messages
// until the script prints "CHARTED" and waits for a line); it prints "KICKED"
// after disconnecting the session and "DONE" at the end. Each step is
// written to stderr as it starts ("STEP ..."), so a test that times out
// shows where the browser was. Any failure exits non-zero at once with the
// reason on stderr, even if closing the browser then hangs.
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";
import { join } from "node:path";

const [base, admin, password, artifacts] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin });
const waiting = [];
lines.on("line", (l) => { const w = waiting.shift(); if (w) { w(l); } });
const nextLine = () => new Promise((resolve) => waiting.push(resolve));
const started = Date.now();
// Each step must finish within a minute, whatever Playwright does: a
// step that hangs ends the script with its name rather than a silent stall.
let watchdog;
const step = (what) => {
  console.log(`STEP +${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
  clearTimeout(watchdog);
  watchdog = setTimeout(() => { console.error("FAILED: step hung for 60 s: " + what); process.exit(1); }, 60000);
};

step("launch chromium");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } }); // a phone
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const expectText = async (text) => {
    await page.getByText(text, { exact: false }).first().waitFor();
  };

  step("log in");
  // Log in with the keyboard only.
  await page.goto(base + "/");
  await page.getByLabel("Account").focus();
  await page.keyboard.type(admin);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();

  step("create a user");
  // Create a user.
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByLabel("Address").fill("browser@localhost");
  await page.getByLabel("Password").fill("first password");
  await page.getByRole("button", { name: "Create" }).click();
  await expectText("Account browser@localhost created.");
  console.log("CREATED browser@localhost");

  // See the session appear when the user connects, then kick it.
  const full = (await nextLine()).replace(/^CONNECTED /, "");
  step("find session " + full);
  await page.getByRole("link", { name: "Sessions" }).click();
  for (let i = 0; ; i++) {
    if (await page.getByText(full).count() > 0) { break; }
    if (i > 50) { throw new Error("session " + full + " never appeared"); }
    await page.waitForTimeout(200);
    await page.reload();
  }
  // The dashboard with the session online, once the chart has two
  // samples, for the artifacts (and docs/).
  step("dashboard chart");
  await page.getByRole("link", { name: "Dashboard" }).click();
  for (let i = 0; await page.locator("svg.chart polyline").count() === 0; i++) {
    if (i > 50) { throw new Error("the chart never got samples"); }
    await page.waitForTimeout(200);
    await page.reload();
  }
  await page.getByText("over tcp").waitFor();
  await page.screenshot({ path: join(artifacts, "dashboard-phone.png"), fullPage: true });
  await page.setViewportSize({ width: 1100, height: 760 });
  await page.screenshot({ path: join(artifacts, "dashboard.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  console.log("CHARTED");
  await nextLine(); // the Go test stopped its traffic

  step("kick the session");
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.screenshot({ path: join(artifacts, "sessions-phone.png"), fullPage: true });
  await page.getByRole("button", { name: "Disconnect " + full }).click();
  await expectText("Session " + full + " disconnected.");
  console.log("KICKED");

  step("create a room");
  // Create a room.
  await page.getByRole("link", { name: "Rooms" }).click();
  await page.getByLabel("Address").fill("browserroom");
  await page.getByLabel("Name", { exact: true }).fill("Browser room");
  await page.getByRole("button", { name: "Create room" }).click();
  await expectText("Room browserroom@conference.localhost created.");

  step("reset the password");
  // Reset the password.
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByLabel("Search").fill("browser");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: "browser@localhost" }).click();
  await page.getByLabel("New password").fill("second password");
  await page.getByRole("button", { name: "Set password" }).click();
  await expectText("The password of browser@localhost was changed.");

  // Forms without the CSRF token, without a login, and from a page of
  // another origin are refused, and change nothing.
  step("POST without CSRF token");
  const noToken = await page.request.post(base + "/users", { form: { jid: "forged1@localhost", password: "x" }, maxRedirects: 0, timeout: 15000 });
  if (noToken.status() !== 403) { throw new Error("POST without CSRF token: " + noToken.status()); }
  step("POST without login");
  const anon = await browser.newContext();
  const noLogin = await anon.request.post(base + "/users", { form: { jid: "forged2@localhost", password: "x" }, maxRedirects: 0, timeout: 15000 });
  if (noLogin.status() !== 403) { throw new Error("POST without login: " + noLogin.status()); }
  await anon.close();
  step("cross-origin form");
  const evil = await context.newPage();
  evil.setDefaultTimeout(15000);
  step("cross-origin form: set content");
  await evil.setContent(`<form method="post" action="${base}/users"><input name="jid" value="forged3@localhost"><input name="password" value="x"><button>go</button></form>`);
  // Responses are collected by a listener and polled for: Playwright's
  // click and waitForResponse can both wait past every timeout for the
  // navigation a cross-origin POST from about:blank starts.
  const answers = [];
  evil.on("response", (r) => { if (r.url().startsWith(base + "/users")) { answers.push(r); } });
  step("cross-origin form: submit");
  await evil.evaluate(() => { setTimeout(() => document.forms[0].submit(), 0); });
  step("cross-origin form: response");
  for (let i = 0; answers.length === 0; i++) {
    if (i > 75) { throw new Error("the cross-origin form got no response"); }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const answer = answers[0];
  if (answer.status() !== 403) { throw new Error("cross-origin form: " + answer.status()); }
  await evil.close();
  step("no forged account");
  await page.goto(base + "/users?q=forged");
  await page.getByText("No accounts.").waitFor();
  if (await page.getByRole("link", { name: /forged/ }).count() !== 0) {
    throw new Error("a refused form created an account");
  }
  step("close");
  console.log("DONE");
} catch (err) {
  console.error("FAILED:", err);
  process.exitCode = 1;
} finally {
  lines.close();
  // Closing Chromium can hang when a step failed mid-navigation: give it
  // a few seconds, then leave anyway (the exit code is already set).
  await Promise.race([browser.close(), new Promise((resolve) => setTimeout(resolve, 5000))]);
  process.exit();
}
