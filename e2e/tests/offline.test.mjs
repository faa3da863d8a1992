// Decide while the server is down, bring it back on the same port and database, and find
// each decision on the server exactly once: the outbox survives, and retries after the
// outage do not apply anything twice.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { withScreenshotOnFailure } from "../harness/app.mjs";
import { adminClient } from "../harness/admin.mjs";
import { sleep, waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

let started;
let server;
let app;

before(async () => {
  started = await signedInApp("offline", { items: 60, synced: true });
  ({ server, app } = started);
});

after(() => started?.stop());

test("decisions made offline reach the server exactly once after it comes back", withScreenshotOnFailure(() => app, "offline", async () => {
  await server.stop();
  // The app finds out on its next push or pull; ask for one so the test need not wait a poll.
  await (await app.$("sync-now")).click();
  await waitFor("the status bar to say offline", async () => (await app.attr('[data-testid="status-online"]', "data-state")) === "offline", 30_000, 200);

  const decided = new Map();
  const keys = ["a", "r", "i", "e", "a", "r"];
  const actionOf = { a: "approve", r: "remove", e: "escalate", i: "ignore" };
  for (const key of keys) {
    const itemId = await app.currentItemId();
    const next = await app.pressAndWaitForNext(key);
    assert.notEqual(next, itemId, "the next item comes from the cache even with the server down");
    decided.set(itemId, actionOf[key]);
  }
  // Past the undo window, the worker tries, fails, and keeps every decision.
  await sleep(6_500);
  assert.equal(await app.attr('[data-testid="status-online"]', "data-state"), "offline");
  assert.ok((await app.count("status-pending")) >= decided.size, `pending should count the ${decided.size} decisions`);
  await app.screenshot("offline-pending");

  await server.start();
  await (await app.$("sync-now")).click();
  await app.waitForSynced(90_000);
  await waitFor("the status bar to say online", async () => (await app.attr('[data-testid="status-online"]', "data-state")) === "online", 30_000, 200);

  const admin = await adminClient(server.url);
  for (const [itemId, action] of decided) {
    const events = await admin.decisionsOn(itemId);
    assert.equal(events.length, 1, `item ${itemId}: expected exactly one decision, got ${events.length}`);
    assert.equal(events[0].data.action, action);
    const item = await admin.get(`/items/${itemId}`);
    assert.equal(item.state, { approve: "approved", remove: "removed", escalate: "escalated", ignore: "ignored" }[action]);
  }
}));
