// Environments: a profile marked production is visibly marked, and destructive actions
// there (a removal, any bulk decision) ask first, naming production and the count.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { withScreenshotOnFailure } from "../harness/app.mjs";
import { adminClient } from "../harness/admin.mjs";
import { waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

let started;
let server;
let app;

before(async () => {
  started = await signedInApp("production", { items: 40 });
  ({ server, app } = started);
});

after(() => started?.stop());

test("a production profile is marked, and removals and bulk decisions there confirm first", withScreenshotOnFailure(() => app, "production", async () => {
  assert.equal(await app.attr('[data-testid="env-badge"]', "data-production"), "false");

  // Add the environment from the badge's menu and switch to it, without a restart.
  await (await app.$("env-badge")).click();
  await (await app.$("profile-add")).click();
  await (await app.$("profile-new-name")).setValue("production");
  await (await app.$("profile-new-url")).setValue(server.url);
  await (await app.$("profile-new-production")).click();
  await (await app.$("profile-save")).click();
  const entry = await app.$("profile-production");
  await entry.waitForDisplayed({ timeout: 10_000 });
  await entry.click();
  await app.signIn({ serverUrl: server.url });
  await waitFor("the production badge", async () => (await app.attr('[data-testid="env-badge"]', "data-production")) === "true", 10_000, 100);
  assert.match(await app.text('[data-testid="env-badge"]'), /PRODUCTION/);
  await app.screenshot("production");

  // A single removal asks first; Esc keeps the item.
  const itemId = await app.currentItemId();
  await app.keys("r");
  const dialog = await app.$("confirm-dialog");
  await dialog.waitForDisplayed({ timeout: 5_000 });
  assert.ok(await (await app.$("confirm-production")).isDisplayed(), "the confirmation names production");
  await app.keys("Escape");
  await dialog.waitForDisplayed({ reverse: true, timeout: 5_000 });
  assert.equal(await app.currentItemId(), itemId, "cancelled: the item stays");

  // A bulk decision states the count and names production; Enter confirms.
  const ids = [await app.currentItemId()];
  await app.keys("x");
  ids.push(await app.pressAndWaitForNext("j"));
  await app.keys("x");
  await app.keys("i");
  await dialog.waitForDisplayed({ timeout: 5_000 });
  assert.match(await app.text('[data-testid="confirm-title"]'), /Ignore 2 items\?/);
  assert.ok(await (await app.$("confirm-production")).isDisplayed());
  await app.screenshot("production-bulk-confirm");
  await app.keys("Enter");
  await dialog.waitForDisplayed({ reverse: true, timeout: 5_000 });
  await app.waitForSynced(60_000);
  const admin = await adminClient(server.url);
  for (const id of ids) {
    const events = await waitFor(`the decision on ${id}`, async () => {
      const found = await admin.decisionsOn(id);
      return found.length ? found : null;
    }, 20_000, 300);
    assert.deepEqual(events.map((e) => e.data.action), ["ignore"]);
  }
}));
