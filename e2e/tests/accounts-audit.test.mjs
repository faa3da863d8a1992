// Support work through the real app and server: suspend an account from the Accounts
// screen, find the suspension in the audit log once the engine has pulled it back, then
// take the server away and find the same event by a word of its note, from the cache.
//
// data-testid scheme of the staff screens (ui/src/lib/accounts, audit, jobs):
//   navigation: nav (the tab strip), nav-triage, nav-accounts, nav-audit, nav-jobs
//               (a tab shows only when SessionInfo.user.permissions holds items.view,
//               accounts.view, audit.view or jobs.view)
//   accounts:   accounts-screen, account-search, account-status-filter, account-list,
//               account-count (data-count), account-row (data-account-id, data-status),
//               account-detail, account-name, account-status (data-status),
//               account-pending, account-joined, account-actions,
//               account-action-suspend|reactivate|force-logout|send-password-reset
//               (only with accounts.act), suspend-form, suspend-duration, suspend-reason,
//               suspend-note, suspend-confirm, account-refused (a refusal, 403 included),
//               account-notice, account-tab-audit|history|notes, account-audit-trail,
//               account-audit-event (data-action), account-history, account-notes,
//               account-note, account-note-input, account-note-add, account-open-audit
//   audit log:  audit-screen, audit-search (full text), audit-actor, audit-action,
//               audit-target ("account:42"), audit-range, audit-from, audit-to,
//               audit-clear, audit-total (data-count), audit-list (the virtual scroller),
//               audit-row (data-event-id, data-action), audit-detail (data-event-id),
//               audit-data, audit-target-link, audit-export, audit-export-state,
//               audit-export-progress, audit-export-path, audit-export-error
//   jobs:       jobs-screen, jobs-stats, jobs-stat-<status> (data-count),
//               jobs-failure-chart (data-total), jobs-status-filter, jobs-kind-filter,
//               jobs-range, jobs-from, jobs-to, jobs-retry-matching, jobs-total
//               (data-count), job-list, job-row (data-job-id, data-status), job-detail
//               (data-job-id), job-status (data-status), job-attempts, job-error,
//               job-traceback, job-retry, job-cancel (only with jobs.act), jobs-notice
//   dialogs:    the shared confirm-dialog: confirm-title, confirm-ok, confirm-cancel
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { withScreenshotOnFailure } from "../harness/app.mjs";
import { PASSWORD } from "../harness/server.mjs";
import { waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

let started;
let server;
let app;
let admin;
/** A word that only the suspension note holds, to find it by full-text search later. */
const noteWord = `quokka${Date.now() % 100000}`;
let suspended;
const AUDIT_EVENTS = 20_000;

before(async () => {
  started = await signedInApp("accounts-audit", {
    items: 40,
    // A log big enough that only a virtualized list and an indexed search keep up.
    prepare: (server) => server.manage("seed_demo", "--audit", String(AUDIT_EVENTS), "--password", PASSWORD),
    admin: true,
    asAdmin: true,
    synced: true,
  });
  ({ server, app, admin } = started);
});

after(() => started?.stop());

/** Sets a field the way typing does (Svelte listens to input events). */
async function type(testId, text) {
  const field = await app.$(testId);
  await field.waitForDisplayed({ timeout: 10_000 });
  await field.clearValue();
  await field.setValue(text);
}

/** Finds `member` on the Accounts screen by their username and opens their detail. */
async function openAccount(member) {
  await (await app.$("nav-accounts")).click();
  await type("account-search", member.username);
  // Wait for the search's own answer: a click on a row of the first, unfiltered list can
  // land on empty space once the filtered list replaces it.
  await waitFor("the search to list only the member", async () => {
    const texts = await app.browser.execute(() =>
      [...document.querySelectorAll('[data-testid="account-row"]')].map((row) => row.textContent ?? ""),
    );
    return texts.length > 0 && texts.every((text) => text.includes(member.username));
  }, 15_000, 100);
  await (await app.browser.$(`[data-testid="account-row"][data-account-id="${member.id}"]`)).click();
  await waitFor("the account's detail", async () => (await app.text('[data-testid="account-name"]')) === (member.display_name || member.username), 10_000, 100);
}

async function rowIds(selector, attribute) {
  return app.browser.execute(
    (s, a) => [...document.querySelectorAll(s)].map((row) => row.getAttribute(a)),
    selector,
    attribute,
  );
}

test("suspend an account for 24 h with a reason and see it in the audit log", withScreenshotOnFailure(() => app, "support-suspend", async () => {
  const startedAt = new Date().toISOString();
  const members = await admin.get("/accounts?status=active&limit=50");
  const member = members.results.find((account) => account.status === "active" && account.roles.length === 0) ?? members.results[0];
  assert.ok(member, "the seed has an active member");
  suspended = member;

  await openAccount(member);
  assert.equal(await app.attr('[data-testid="account-status"]', "data-status"), "active");

  await (await app.$("account-action-suspend")).click();
  await (await app.$("suspend-form")).waitForDisplayed({ timeout: 5_000 });
  await (await app.$("suspend-duration")).selectByVisibleText("24 hours");
  const reasonSelect = await app.$("suspend-reason");
  const reasons = await app.browser.execute(() =>
    [...document.querySelectorAll('[data-testid="suspend-reason"] option')].map((o) => o.textContent?.trim()).filter((t) => t && t !== "No template"),
  );
  assert.ok(reasons.length > 0, "the server's account reason templates are offered");
  await reasonSelect.selectByVisibleText(reasons[0]);
  await type("suspend-note", `Spam wave from this account, see ${noteWord}`);
  await app.screenshot("accounts-suspend-form");
  await (await app.$("suspend-confirm")).click();

  // Optimistic at once, then confirmed by the server through the outbox.
  await waitFor("the account to show as suspended", async () => (await app.attr('[data-testid="account-status"]', "data-status")) === "suspended", 10_000, 100);
  await app.waitForSynced();
  await waitFor("the server to hold the suspension", async () => (await admin.get(`/accounts/${member.id}`)).status === "suspended", 30_000, 300);
  // The seeded history has suspensions of its own (seed_demo writes the services' events):
  // only those written since this test began are its own.
  const since = encodeURIComponent(startedAt);
  const onServer = await admin.get(`/audit?action=account.suspend&target_type=account&target_id=${member.id}&created_after=${since}`);
  assert.equal(onServer.results.length, 1, "exactly one suspension event on the server");
  assert.equal(onServer.results[0].data.duration_hours, 24);
  assert.ok(onServer.results[0].data.note.includes(noteWord));

  // The audit log is the engine's mirror: the event shows once the pull after the push lands.
  await (await app.$("nav-audit")).click();
  await type("audit-action", "account.suspend");
  await type("audit-target", `account:${member.id}`);
  const eventId = String(onServer.results[0].id);
  await waitFor("the account.suspend event in the audit log", async () => {
    const ids = await rowIds('[data-testid="audit-row"]', "data-event-id");
    if (ids.includes(eventId)) return true;
    await (await app.$("sync-now")).click().catch(() => {});
    return false;
  }, 60_000, 1_000);
  await (await app.browser.$(`[data-testid="audit-row"][data-event-id="${eventId}"]`)).click();
  await waitFor("the event's detail", async () => (await app.attr('[data-testid="audit-detail"]', "data-event-id")) === eventId, 5_000, 100);
  const data = await app.text('[data-testid="audit-data"]');
  assert.ok(data.includes(noteWord), `the event's data shows the note: ${data}`);

  // The whole log, newest first, the suspension on top once the mirror has caught up.
  await (await app.$("audit-clear")).click();
  await waitFor("the seeded log in the mirror", async () => (await app.count("audit-total")) >= 1_000, 120_000, 500);
  // The engine stops counting at its cap and says so; the list still scrolls past it.
  assert.match(await app.text('[data-testid="audit-total"]'), /\+ events$/);
  await (await app.browser.$(`[data-testid="audit-row"][data-event-id="${eventId}"]`)).click();
  await app.setTheme("dark");
  await app.screenshot("audit");
  await app.setTheme("light");

  // Back on the account, its audit trail lists the suspension too; a wider search keeps it shown.
  await (await app.$("nav-accounts")).click();
  await waitFor("the suspension in the account's audit trail", async () =>
    (await rowIds('[data-testid="account-audit-event"]', "data-action")).includes("account.suspend"), 20_000, 250);
  await type("account-search", "member");
  await waitFor("more accounts listed", async () => (await app.count("account-count")) > 1, 10_000, 100);
  assert.equal(await app.attr('[data-testid="account-detail"] [data-testid="account-status"]', "data-status"), "suspended");
  await app.screenshot("accounts");
}));

test("find an audit event by a word of its data while the server is stopped", withScreenshotOnFailure(() => app, "support-offline-audit", async () => {
  assert.ok(suspended, "the suspension test ran first");
  await server.stop();
  await (await app.$("sync-now")).click();
  await waitFor("the status bar to say offline", async () => (await app.attr('[data-testid="status-online"]', "data-state")) === "offline", 30_000, 200);

  await (await app.$("nav-audit")).click();
  const clear = await app.$("audit-clear");
  if (await clear.isExisting()) await clear.click();
  await type("audit-search", noteWord);
  await waitFor("the suspension found by its note while offline", async () => {
    const actions = await rowIds('[data-testid="audit-row"]', "data-action");
    return actions.length === 1 && actions[0] === "account.suspend";
  }, 10_000, 100);
  await (await app.$("audit-row")).click();
  await waitFor("the event's data in the detail", async () => (await app.text('[data-testid="audit-data"]'))?.includes(noteWord), 5_000, 100);
  assert.equal(await app.attr('[data-testid="status-online"]', "data-state"), "offline");

  // The export writes the current filter's events to a CSV file, offline too.
  await (await app.$("audit-export")).click();
  await waitFor("the export's file path", async () => (await app.text('[data-testid="audit-export-path"]')) || null, 30_000, 100);
  const csvPath = await app.text('[data-testid="audit-export-path"]');
  const csv = fs.readFileSync(csvPath, "utf8");
  assert.ok(csv.includes(noteWord), "the CSV holds the matching event");

  // A word no event holds finds nothing, rather than everything.
  await type("audit-search", `${noteWord}zzz`);
  await waitFor("no rows for a word nobody wrote", async () => (await app.count("audit-total")) === 0, 10_000, 100);

  // Clearing the search shows the whole cached log again, still offline.
  await (await app.$("audit-clear")).click();
  await waitFor("the whole cached log", async () => (await app.count("audit-total")) >= 1_000, 10_000, 100);
  // j and k walk the list from the keyboard, the detail following.
  await app.browser.execute(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : undefined));
  await app.keys("j");
  const first = await waitFor("j to open the first event", () => app.attr('[data-testid="audit-detail"]', "data-event-id"), 5_000, 50);
  await app.keys("j");
  await waitFor("j to open the next event", async () => (await app.attr('[data-testid="audit-detail"]', "data-event-id")) !== first, 5_000, 50);
  await app.keys("k");
  await waitFor("k to go back", async () => (await app.attr('[data-testid="audit-detail"]', "data-event-id")) === first, 5_000, 50);
  await app.screenshot("audit-offline");
  await server.start();
}));

test("an action the server refuses with 403 is kept as refused, and the screens follow the role taken", withScreenshotOnFailure(() => app, "support-403", async () => {
  await (await app.$("sync-now")).click();
  await waitFor("the status bar to say online again", async () => (await app.attr('[data-testid="status-online"]', "data-state")) === "online", 60_000, 300);
  const startedAt = new Date().toISOString();
  const members = await admin.get("/accounts?status=active&limit=50");
  const member = members.results.find((account) => account.id !== suspended.id && account.status === "active");
  assert.ok(member, "another active member");

  await openAccount(member);

  // The app still holds the admin's permissions; the server no longer grants them.
  server.shell(
    "from django.contrib.auth import get_user_model; from django.contrib.auth.models import Group; " +
      "u = get_user_model().objects.get(username='admin'); u.is_superuser = False; u.save(); " +
      "u.groups.set([Group.objects.get_or_create(name='moderator')[0]])",
  );
  await (await app.$("account-action-force-logout")).click();
  await (await app.$("confirm-ok")).click();
  // The refusal is kept, with its target and the server's reason; the engine reads the
  // user's roles again after the 403, and the accounts screen, no longer allowed, goes.
  await waitFor("the refusal in the status bar", async () => (await app.count("status-refused")) === 1, 60_000, 200);
  await (await app.$("status-refused")).click();
  await (await app.$("refused-panel")).waitForDisplayed({ timeout: 10_000 });
  const refused = await app.text('[data-testid="refused"]');
  assert.match(refused, new RegExp(`Force logout of @${member.username}`));
  assert.match(refused, /permission/i);
  await app.screenshot("accounts-403");
  await (await app.$("refused-close")).click();
  await waitFor("the accounts tab to go with the role", async () =>
    app.browser.execute(() => document.querySelector('[data-testid="nav-accounts"]') === null), 30_000, 200);
}));
