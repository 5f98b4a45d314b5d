// Drives Parley's admin console in headless Chromium, the way an
// administrator would, by labels and button names only (no knowledge of
// the server's internals). Run by TestBrowserConsole (internal/admin):
//
//   node console.mjs BASE ADMIN PASSWORD ARTIFACTS
//
// It talks to the Go test over a line protocol: it prints "CREATED <jid>"
// once the user exists and waits for "CONNECTED <full jid>" on stdin (the
// Go test logs that user in with a real XMPP client); it prints "KICKED"
// after disconnecting the session and "DONE" at the end. Any failure
// exits non-zero with the reason on stderr.
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";
import { join } from "node:path";

const [base, admin, password, artifacts] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin });
const waiting = [];
lines.on("line", (l) => { const w = waiting.shift(); if (w) { w(l); } });
const nextLine = () => new Promise((resolve) => waiting.push(resolve));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } }); // a phone
  page.setDefaultTimeout(15000);
  const expectText = async (text) => {
    await page.getByText(text, { exact: false }).first().waitFor();
  };

  // Log in with the keyboard only.
  await page.goto(base + "/");
  await page.getByLabel("Account").focus();
  await page.keyboard.type(admin);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();

  // Create a user.
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByLabel("Address").fill("browser@localhost");
  await page.getByLabel("Password").fill("first password");
  await page.getByRole("button", { name: "Create" }).click();
  await expectText("Account browser@localhost created.");
  console.log("CREATED browser@localhost");

  // See the session appear when the user connects, then kick it.
  const full = (await nextLine()).replace(/^CONNECTED /, "");
  await page.getByRole("link", { name: "Sessions" }).click();
  for (let i = 0; ; i++) {
    if (await page.getByText(full).count() > 0) { break; }
    if (i > 50) { throw new Error("session " + full + " never appeared"); }
    await page.waitForTimeout(200);
    await page.reload();
  }
  // The dashboard with the session online, once the chart has two
  // samples, for the artifacts (and docs/).
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

  await page.getByRole("link", { name: "Sessions" }).click();
  await page.screenshot({ path: join(artifacts, "sessions-phone.png"), fullPage: true });
  await page.getByRole("button", { name: "Disconnect " + full }).click();
  await expectText("Session " + full + " disconnected.");
  console.log("KICKED");

  // Create a room.
  await page.getByRole("link", { name: "Rooms" }).click();
  await page.getByLabel("Address").fill("browserroom");
  await page.getByLabel("Name", { exact: true }).fill("Browser room");
  await page.getByRole("button", { name: "Create room" }).click();
  await expectText("Room browserroom@conference.localhost created.");

  // Reset the password.
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByLabel("Search").fill("browser");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: "browser@localhost" }).click();
  await page.getByLabel("New password").fill("second password");
  await page.getByRole("button", { name: "Set password" }).click();
  await expectText("The password of browser@localhost was changed.");

  console.log("DONE");
} finally {
  await browser.close();
  lines.close();
}
