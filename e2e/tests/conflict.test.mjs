// Conflicts with a second client. The app decides; within the undo window, before the
// decision is sent, someone else changes the same item on the server. The push meets a
// 409, and the conflicts panel shows the moderator's decision beside the server's state:
//  - another moderator decided the item first: the moderator drops theirs;
//  - the item changed but is still open (a newer version): the moderator decides again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { withScreenshotOnFailure } from "../harness/app.mjs";
import { waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

let started;
let server;
let app;
let admin;

before(async () => {
  started = await signedInApp("conflict", { items: 60, synced: true, admin: true });
  ({ server, app, admin } = started);
});

after(() => started?.stop());

async function openConflicts() {
  await (await app.$("status-conflicts")).click();
  const panel = await app.$("conflicts-panel");
  await panel.waitForDisplayed({ timeout: 5_000 });
}

test("decided by someone else first: the panel shows both sides and the moderator drops theirs", withScreenshotOnFailure(() => app, "conflict-drop", async () => {
  // j then r at once: the item is decided before the app claims it.
  await app.keys("j");
  const itemId = await app.currentItemId();
  const item = await admin.get(`/items/${itemId}`);
  await app.keys("r");
  await waitFor("the app to move on", async () => (await app.currentItemId()) !== itemId, 5_000, 25);
  // The second client approves it while the app's removal waits out its undo window.
  const theirs = await admin.post(`/items/${itemId}/decisions`, { action: "approve", reason_code: "", note: "second client", base_version: item.version });
  assert.equal(theirs.status, 201, JSON.stringify(theirs.body));

  await waitFor("a conflict in the status bar", async () => (await app.count("status-conflicts")) === 1, 45_000, 250);
  await openConflicts();
  const row = `[data-testid="conflict"][data-item-id="${itemId}"]`;
  assert.equal(await app.text(`${row} [data-testid="conflict-mine"]`), "removed");
  assert.equal(await app.text(`${row} [data-testid="conflict-server"]`), "approved");
  await app.screenshot("conflicts");
  await app.browser.$(`${row} [data-testid="conflict-drop"]`).click();
  await waitFor("the conflict to go", async () => (await app.count("status-conflicts")) === 0, 15_000, 200);
  await (await app.$("conflicts-close")).click();

  const events = await admin.decisionsOn(itemId);
  assert.equal(events.length, 1, "only the second client's decision is on the server");
  assert.equal(events[0].data.action, "approve");
}));

test("changed but still open: the moderator decides again on the server's version", withScreenshotOnFailure(() => app, "conflict-again", async () => {
  await app.keys("j");
  const itemId = await app.currentItemId();
  await app.keys("e");
  await waitFor("the app to move on", async () => (await app.currentItemId()) !== itemId, 5_000, 25);
  // Someone edits the item (its version moves on) while it stays open.
  server.shell(
    `from django.db.models import F; from django.utils import timezone; from steward.models import Item; ` +
    `Item.objects.filter(pk=${itemId}).update(version=F("version") + 1, updated_at=timezone.now())`,
  );

  await waitFor("a conflict in the status bar", async () => (await app.count("status-conflicts")) === 1, 45_000, 250);
  await openConflicts();
  const row = `[data-testid="conflict"][data-item-id="${itemId}"]`;
  assert.equal(await app.text(`${row} [data-testid="conflict-mine"]`), "escalated");
  assert.equal(await app.text(`${row} [data-testid="conflict-server"]`), "open");
  await app.browser.$(`${row} [data-testid="conflict-decide-remove"]`).click();
  await waitFor("the conflict to go", async () => (await app.count("status-conflicts")) === 0, 15_000, 200);
  await (await app.$("conflicts-close")).click();
  await app.waitForSynced(60_000);

  const events = await waitFor("the new decision on the server", async () => {
    const found = await admin.decisionsOn(itemId);
    return found.length ? found : null;
  }, 30_000, 300);
  assert.equal(events.length, 1, "exactly one decision, the one made again");
  assert.equal(events[0].data.action, "remove");
  assert.equal((await admin.get(`/items/${itemId}`)).state, "removed");
}));
