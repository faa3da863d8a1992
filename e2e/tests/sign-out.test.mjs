// Signing out as a moderator would, with a real pointer and real keys: work that exists
// only on this computer is never wiped without a word, claims are given back, the next
// user of the same app run gets their reasons, and a role taken on the server shows as
// refusals kept with what the moderator wrote, and as the screens the new role allows.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { withScreenshotOnFailure } from "../harness/app.mjs";
import { adminClient } from "../harness/admin.mjs";
import { RealInput } from "../harness/real-input.mjs";
import { ADMIN, ADMIN_PASSWORD, MODERATOR } from "../harness/server.mjs";
import { waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

let started;
let server;
let app;
let real;

before(async () => {
  started = await signedInApp("sign-out", { items: 60 });
  ({ server, app } = started);
  real = new RealInput(app.browser);
});

after(() => started?.stop());

const onSignInScreen = () => app.browser.execute(() => document.querySelector('[data-testid="signin-submit"]') !== null);

async function nextItemAfter(before) {
  return waitFor(`another item than ${before}`, async () => {
    const now = await app.currentItemId();
    return now !== null && now !== before ? now : null;
  }, 10_000, 25);
}

test("signing out with decisions made offline asks first, and 'send' delivers each exactly once", withScreenshotOnFailure(() => app, "sign-out-send", async () => {
  await server.stop();
  const decided = [];
  for (const key of ["r", "a"]) {
    const id = await app.currentItemId();
    decided.push(id);
    await real.keys(key);
    await nextItemAfter(id);
  }
  await waitFor("two decisions waiting, offline", async () => (await app.count("status-pending")) >= 2 && (await app.attr('[data-testid="status-online"]', "data-state")) === "offline", 30_000, 200);

  await real.click('[data-testid="sign-out"]');
  const dialog = await app.$("signout-dialog");
  await dialog.waitForDisplayed({ timeout: 10_000 });
  assert.equal(await app.attr('[data-testid="signout-dialog"]', "data-sendable"), "2");
  assert.match(await app.text('[data-testid="signout-counts"]'), /2 decisions not sent yet/);
  await app.screenshot("sign-out-dialog");

  // Sending while the server is gone fails plainly and keeps everything.
  await real.click('[data-testid="signout-send"]');
  const error = await waitFor("the send error", () => app.text('[data-testid="signout-error"]'), 30_000, 200);
  assert.match(error, /still signed in/);
  assert.equal(await onSignInScreen(), false);

  await server.start();
  await real.click('[data-testid="signout-send"]');
  await waitFor("the sign-in screen", onSignInScreen, 30_000, 200);
  const admin = await adminClient(server.url);
  const actions = { 0: "remove", 1: "approve" };
  for (const [index, id] of decided.entries()) {
    const decisions = await admin.decisionsOn(id);
    assert.equal(decisions.length, 1, `item ${id}: ${JSON.stringify(decisions)}`);
    assert.equal(decisions[0].data.action, actions[index]);
  }
}));

test("signing out gives back the claim on the item on screen at once", withScreenshotOnFailure(() => app, "sign-out-claims", async () => {
  await app.signIn({ serverUrl: server.url });
  const admin = await adminClient(server.url);
  const shown = await app.currentItemId();
  await waitFor("the claim on the server", async () => (await admin.get(`/items/${shown}`)).claim?.user?.username === MODERATOR, 20_000, 200);
  const started_at = new Date().toISOString();
  await real.click('[data-testid="sign-out"]');
  await waitFor("the sign-in screen", onSignInScreen, 30_000, 200);
  const item = await admin.get(`/items/${shown}`);
  if (item.claim !== null) {
    const trail = await admin.get(`/audit?target_type=item&target_id=${shown}&limit=50`);
    const lines = trail.results.map((e) => `${e.created_at} ${e.actor_username} ${e.action}`).join("; ");
    assert.fail(`still claimed after sign-out (${started_at} .. ${new Date().toISOString()}): ${JSON.stringify(item.claim)}; trail: ${lines}`);
  }
}));

test("the next user of the same app run sees the decision reasons", withScreenshotOnFailure(() => app, "sign-out-reasons", async () => {
  await app.signIn({ serverUrl: server.url, username: ADMIN, password: ADMIN_PASSWORD });
  const reasons = await waitFor("the reason list", async () => {
    const codes = await app.browser.execute(() => [...document.querySelectorAll('[data-testid="reason-list"] [role="radio"]')].length);
    return codes >= 3 ? codes : null;
  }, 30_000, 200);
  assert.ok(reasons >= 3, `${reasons} reasons`);
  await real.click('[data-testid="sign-out"]');
  await waitFor("the sign-in screen", onSignInScreen, 30_000, 200);
}));

test("a role taken on the server: the refused decision is kept with its note, and the screens follow the new role", withScreenshotOnFailure(() => app, "sign-out-roles", async () => {
  await app.signIn({ serverUrl: server.url });
  server.shell(
    "from django.contrib.auth import get_user_model\n" +
      "from django.contrib.auth.models import Group\n" +
      `user = get_user_model().objects.get(username=${JSON.stringify(MODERATOR)})\n` +
      "user.groups.remove(Group.objects.get(name='moderator'))\n" +
      "user.groups.add(Group.objects.get_or_create(name='support')[0])\n",
  );
  const title = await app.text('[data-testid="item-title"]');
  const note = "Second warning; see ticket 4411 before this goes any further.";
  await real.keys("n");
  await waitFor("the note field", () => app.browser.execute(() => document.activeElement?.getAttribute("data-testid") === "decision-note"), 5_000, 50);
  await real.type(note);
  await real.keys("Return", "r");
  const refused = await waitFor("a refused action in the status bar", () => app.count("status-refused"), 30_000, 200);
  assert.equal(refused, 1);
  await real.click('[data-testid="status-refused"]');
  await (await app.$("refused-panel")).waitForDisplayed({ timeout: 10_000 });
  assert.equal(await app.text('[data-testid="refused-text"]'), note);
  assert.match(await app.text('[data-testid="refused-reason"]'), /permission/i);
  assert.match(await app.text('[data-testid="refused"]'), new RegExp(title.slice(0, 12).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  await app.screenshot("refused-panel");
  await real.click('[data-testid="refused-dismiss"]');
  await waitFor("the refusal dismissed", async () => Number.isNaN(await app.count("status-refused")), 10_000, 100);

  // Support's screens appear without signing out: the engine read /me after the 403.
  await waitFor("the accounts and audit tabs", () => app.browser.execute(() =>
    document.querySelector('[data-testid="nav-accounts"]') !== null && document.querySelector('[data-testid="nav-audit"]') !== null,
  ), 30_000, 200);
}));
