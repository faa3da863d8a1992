// Walking-skeleton end-to-end test: the real Steward app (built with
// `npm --prefix ui run tauri -- build --debug --no-bundle`), driven through tauri-driver
// and WebKitWebDriver, against a real Django server with seed data. Nothing is mocked.
//
// data-testid scheme used by the UI (ui/src/lib/shell and ui/src/lib/triage):
//   sign-in:   signin-server-url, signin-username, signin-password, signin-submit,
//              signin-error (with data-error-code = AppError.code), signin-reason
//   top bar:   env-badge (data-production="true" on production), sign-out
//   queues:    queue-list; each queue is data-testid="queue-item" with data-queue-id=<id>
//   items:     item-list; each row is data-testid="item-row" with data-item-id=<id>
//              (and data-pending=<action> while a local decision waits to sync)
//   detail:    item-title, item-content (the sandboxed iframe), item-author, item-reports,
//              decide-approve, decide-remove, decide-escalate, decide-ignore, decide-error
//   status:    status-bar, status-online (data-state = online|offline|syncing|unknown),
//              status-pending (data-count), status-conflicts, status-last-sync, sync-now
//
// Environment: as for every e2e test (harness/app.mjs and server.mjs).
// The app needs a display (Xvfb) and a Secret Service on the session bus; CI provides both.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { adminClient } from "../harness/admin.mjs";
import { MODERATOR, PASSWORD } from "../harness/server.mjs";
import { waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

let started;
let server;
let serverUrl;
let app;
let browser;

const byTestId = (id) => browser.$(`[data-testid="${id}"]`);
const screenshot = (name) => app.screenshot(name);

before(async () => {
  // Not signed in: signing in is what this test does.
  started = await signedInApp("skeleton", { items: 40, signIn: false });
  ({ server, app } = started);
  serverUrl = server.url;
  browser = app.browser;
});

after(() => started?.stop());

test("moderator signs in, approves the first item, and the server records one approval", async () => {
  try {
    await signInAndApprove();
  } catch (error) {
    // Keep what the window showed when it went wrong, for whoever reads the CI log.
    await screenshot("failure").catch(() => {});
    throw error;
  }
});

async function signInAndApprove() {
  // Sign-in screen, first with a wrong password: the error is shown and the form stays usable.
  const serverField = await byTestId("signin-server-url");
  await serverField.waitForDisplayed({ timeout: 30_000 });
  await serverField.setValue(serverUrl);
  await (await byTestId("signin-username")).setValue(MODERATOR);
  await (await byTestId("signin-password")).setValue("definitely-not-the-password");
  await (await byTestId("signin-submit")).click();

  const signinError = await byTestId("signin-error");
  await signinError.waitForDisplayed({ timeout: 30_000, timeoutMsg: "no sign-in error after a wrong password" });
  assert.match(await signinError.getText(), /wrong username or password/i);
  await screenshot("signin-error");

  await (await byTestId("signin-password")).setValue(PASSWORD);
  await (await byTestId("signin-submit")).click();

  // Main screen: pick the first queue (the UI sorts them by priority), then its first item.
  const firstQueue = await browser.$('[data-testid="queue-list"] [data-testid="queue-item"]');
  await firstQueue.waitForDisplayed({ timeout: 60_000, timeoutMsg: "no queue appeared after signing in" });
  await firstQueue.click();

  const firstRow = await browser.$('[data-testid="item-list"] [data-testid="item-row"]');
  await firstRow.waitForDisplayed({ timeout: 60_000, timeoutMsg: "the first queue shows no items" });
  const itemId = Number(await firstRow.getAttribute("data-item-id"));
  assert.ok(Number.isInteger(itemId) && itemId > 0, `bad data-item-id on the first row: ${itemId}`);
  // Address the row by id from here on: rows may re-order while the first sync lands.
  const row = await browser.$(`[data-testid="item-row"][data-item-id="${itemId}"]`);
  // textContent, not getText: WebKitWebDriver reports no visible text for spans inside a button.
  const rowTitle = (
    await browser.execute(
      (id) => document.querySelector(`[data-testid="item-row"][data-item-id="${id}"] .title`)?.textContent ?? "",
      itemId,
    )
  ).trim();
  assert.ok(rowTitle, `item ${itemId} has no title in the list`);
  await row.click();

  // Wait until the detail pane shows this very item before deciding on it.
  let seen = "nothing";
  await browser.waitUntil(
    async () => {
      const title = await byTestId("item-title");
      const shown = (await title.isExisting()) ? (await title.getText()).trim() : "<no title>";
      const current = await browser.$(`[data-testid="item-row"][data-item-id="${itemId}"]`).getAttribute("aria-current");
      seen = `title ${JSON.stringify(shown)}, row aria-current ${current}`;
      return shown === rowTitle && current === "true";
    },
    { timeout: 15_000, timeoutMsg: `item ${itemId} (${JSON.stringify(rowTitle)}) never opened in the detail pane` },
  ).catch((error) => {
    throw new Error(`${error.message}; last seen ${seen}`);
  });
  const approve = await byTestId("decide-approve");
  await approve.waitForEnabled({ timeout: 15_000 });
  await approve.click();

  // The UI moves on at once; the engine pushes the decision in the background.
  await browser.waitUntil(
    async () => {
      const row = await browser.$(`[data-testid="item-row"][data-item-id="${itemId}"]`);
      if (!(await row.isExisting())) return true;
      return (await row.getAttribute("aria-current")) !== "true";
    },
    { timeout: 15_000, timeoutMsg: "the UI did not move past the approved item" },
  );

  // The server is the judge: the item is approved, with exactly one audit event.
  const admin = await adminClient(serverUrl);
  const item = await waitFor(`item ${itemId} approved on the server`, async () => {
    const current = await admin.get(`/items/${itemId}`);
    return current.state === "approved" ? current : null;
  }, 60_000, 500);
  assert.equal(item.state, "approved");

  const decisions = await admin.decisionsOn(itemId);
  assert.equal(decisions.length, 1, `expected one item.decide event, got ${JSON.stringify(decisions)}`);
  assert.equal(decisions[0].data.action, "approve");
  assert.equal(decisions[0].target_id, String(itemId));

  await screenshot("after-approve");
}
