// The app as a moderator uses it: a real pointer and real keys through the X server
// (xdotool under Xvfb), where WebDriver's synthetic events would hide where the keyboard
// focus really is. Keyboard triage must survive a click in the item's content, text there
// must still select and copy, and each screen shows its own keys.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { withScreenshotOnFailure } from "../harness/app.mjs";
import { adminClient } from "../harness/admin.mjs";
import { RealInput, clearClipboard, clipboardText } from "../harness/real-input.mjs";
import { waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

let started;
let server;
let app;
let real;

before(async () => {
  started = await signedInApp("real-input", { items: 40, asAdmin: true });
  ({ server, app } = started);
  real = new RealInput(app.browser);
});

after(() => started?.stop());

const CONTENT = '[data-testid="item-content"]';

/** Waits until the item on screen is no longer `before`; returns the new one. */
async function nextItemAfter(before) {
  return waitFor(`another item than ${before}`, async () => {
    const now = await app.currentItemId();
    return now !== null && now !== before ? now : null;
  }, 10_000, 25);
}

/** The words of the document the content frame was given (read outside the frame: a
 * WebDriver switch into the frame would move the focus behind the real input's back). */
async function contentText() {
  const doc = (await app.attr(CONTENT, "data-document")) ?? "";
  return doc.replace(/^.*?<body>/s, "").replace(/<[^>]*>/g, " ").replace(/&[a-z#0-9]+;/gi, " ").replace(/\s+/g, " ").trim();
}

test("j, k and the decision keys keep working after a click in the content, and its text still copies", withScreenshotOnFailure(() => app, "real-click-content", async () => {
  await waitFor("the content on screen", () => app.browser.execute((s) => document.querySelector(s)?.classList.contains("shown"), CONTENT), 10_000, 50);
  const first = await app.currentItemId();

  // A click in the content puts the focus inside its frame, as a moderator's would.
  await real.click(CONTENT, 0.5, 0.7);
  await waitFor("the focus inside the content frame", () => app.browser.execute(() => document.activeElement?.tagName === "IFRAME"), 5_000, 50);
  await real.keys("j");
  const second = await nextItemAfter(first);
  await real.keys("k");
  assert.equal(await nextItemAfter(second), first, "k goes back after a click in the content");

  // Selecting text there and copying it works as anywhere else.
  await waitFor("the content on screen", () => app.browser.execute((s) => document.querySelector(s)?.classList.contains("shown"), CONTENT), 10_000, 50);
  const text = await contentText();
  await clearClipboard();
  await real.click(CONTENT, 0.5, 0.7);
  await real.keys("ctrl+a", "ctrl+c");
  const copied = await waitFor("the copied text on the clipboard", async () => (await clipboardText()).trim() || null, 5_000, 100);
  const words = (value) => value.split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 2);
  assert.ok(words(copied).length > 0 && words(copied).every((word) => text.includes(word)), `copied ${JSON.stringify(copied)} from ${JSON.stringify(text)}`);

  // After selecting and copying, a decision key still decides the item on screen.
  await real.keys("a");
  const third = await nextItemAfter(first);
  assert.notEqual(third, first);
  const admin = await adminClient(server.url);
  await waitFor("the approval on the server", async () => (await admin.decisionsOn(first)).length === 1, 30_000, 250);
  const decisions = await admin.decisionsOn(first);
  assert.equal(decisions.length, 1);
  assert.equal(decisions[0].data.action, "approve");
}));

test("each screen's status bar shows that screen's keys", withScreenshotOnFailure(() => app, "real-screen-keys", async () => {
  const hints = () => app.text('[data-testid="status-keys"]');
  assert.match(await hints(), /decide/);
  assert.match(await hints(), /undo/);
  for (const [view, own] of [["accounts", /search/], ["audit", /search/], ["jobs", /retry/]]) {
    await real.click(`[data-testid="nav-${view}"]`);
    await waitFor(`the ${view} screen's keys`, async () => (await app.attr('[data-testid="status-keys"]', "data-view")) === view, 5_000, 50);
    const shown = await hints();
    assert.match(shown, own, `${view}: ${shown}`);
    assert.doesNotMatch(shown, /decide|undo|select/, `${view} shows triage's keys: ${shown}`);
  }
  await real.click('[data-testid="nav-triage"]');
  await waitFor("triage's keys again", async () => /decide/.test(await hints()), 5_000, 50);
}));
