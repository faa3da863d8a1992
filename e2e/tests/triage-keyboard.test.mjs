// Keyboard-only triage against the real server: twenty decisions with j/k, a/r/e/i,
// reasons on number keys, a note, an undo, and a bulk decision with its confirmation.
// Every decision must be on the server exactly once, with the action the keys chose.
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
  started = await signedInApp("keyboard", { items: 120 });
  ({ server, app } = started);
});

after(() => started?.stop());

/** The text the content frame shows, read inside the sandboxed frame. */
async function frameText() {
  const frame = await app.browser.$('[data-testid="item-content"]');
  await app.browser.switchFrame(frame);
  try {
    return (await (await app.browser.$("body")).getText()).trim();
  } finally {
    await app.browser.switchFrame(null);
    // Reading inside the frame leaves the keyboard there; a click on the item's title
    // (plain text) gives it back to the triage screen.
    await (await app.$("item-title")).click();
  }
}

/** The words of the document the frame was given (its body, tags dropped). */
async function givenText() {
  const doc = (await app.attr('[data-testid="item-content"]', "data-document")) ?? "";
  return doc.replace(/^.*?<body>/s, "").replace(/<[^>]*>/g, " ").replace(/&[a-z#0-9]+;/gi, " ").replace(/\s+/g, " ").trim();
}

const words = (text) => text.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 2);

// Neighbours are loaded ahead into hidden frames and later items replace their
// documents: the frame on screen must show the item on screen, never a blank or an
// earlier item's content.
test("moving with j and k shows each item's own content in the frame", withScreenshotOnFailure(() => app, "frame-content", async () => {
  const seen = new Set();
  for (const key of ["j", "j", "j", "j", "j", "j", "k", "k", "j", "j", "j"]) {
    const id = await app.pressAndWaitForNext(key);
    await waitFor(`item ${id}'s content in the frame`, async () => {
      const given = await givenText();
      const shown = await frameText().catch(() => "");
      return given.length > 0 && shown.length > 0 && words(given).slice(0, 6).every((w) => shown.includes(w));
    }, 5_000, 50);
    seen.add(await frameText());
  }
  assert.ok(seen.size >= 5, `the frame showed only ${seen.size} different texts over eleven moves`);
}));

test("twenty items triaged with the keyboard alone reach the server once each", withScreenshotOnFailure(() => app, "keyboard", async () => {
  const reasonCodes = await app.browser.execute(() =>
    [...document.querySelectorAll('[data-testid="reason-list"] [role="radio"]')].map((b) => b.getAttribute("data-testid")),
  );
  assert.ok(reasonCodes.length >= 3, `expected numbered reasons, got ${reasonCodes}`);
  // The seeded templates, in order: spam (remove), harassment (remove), nsfw, off-topic,
  // no-violation (approve/ignore), needs-senior (escalate).
  const keyFor = (code) => String(reasonCodes.indexOf(`reason-${code}`) + 1);

  // j and k move without deciding.
  const first = await app.currentItemId();
  const second = await app.pressAndWaitForNext("j");
  assert.notEqual(second, first);
  assert.equal(await app.pressAndWaitForNext("k"), first);

  const plan = ["a", "r", "e", "i"];
  const expected = new Map(); // item id -> {action, reason, note}
  const actionOf = { a: "approve", r: "remove", e: "escalate", i: "ignore" };
  for (let n = 0; n < 20; n++) {
    const key = plan[n % plan.length];
    const itemId = await app.currentItemId();
    let reason = "";
    let note = "";
    if (key === "r") {
      reason = "spam";
      await app.keys(keyFor("spam"));
      await waitFor("the spam reason to be picked", async () => (await app.attr('[data-testid="reason-spam"]', "aria-checked")) === "true", 5_000, 25);
    }
    if (n === 5) {
      note = "Escalated from the keyboard test";
      await app.keys("n");
      const field = await app.$("decision-note");
      await field.waitForDisplayed({ timeout: 5_000 });
      await waitFor("the note field to take focus", () => app.browser.execute(() => document.activeElement?.id === "decision-note"), 5_000, 25);
      await app.keys(note);
      await app.keys("Enter");
    }
    const next = await app.pressAndWaitForNext(key);
    assert.notEqual(next, itemId, "the next item must appear after a decision");
    expected.set(itemId, { action: actionOf[key], reason, note });
  }

  // Undo the last decision before it is sent: the item comes back on screen.
  const lastDecided = [...expected.keys()].at(-1);
  await app.keys("u");
  await waitFor("the undone item back on screen", async () => (await app.currentItemId()) === lastDecided, 5_000, 50);
  expected.delete(lastDecided);
  // Decide it again, differently, so twenty decisions still reach the server.
  await app.pressAndWaitForNext("a");
  expected.set(lastDecided, { action: "approve", reason: "", note: "" });
  await app.screenshot("keyboard-after-twenty");

  // The server is the judge: each item once, with the chosen action, reason and note.
  await app.waitForSynced(90_000);
  const admin = await adminClient(server.url);
  for (const [itemId, want] of expected) {
    const events = await waitFor(`the decision on item ${itemId}`, async () => {
      const found = await admin.decisionsOn(itemId);
      return found.length > 0 ? found : null;
    }, 30_000, 300);
    assert.equal(events.length, 1, `item ${itemId}: expected one decision, got ${JSON.stringify(events.map((e) => e.data))}`);
    assert.equal(events[0].data.action, want.action, `item ${itemId}`);
    assert.equal(events[0].data.reason_code, want.reason, `item ${itemId} reason`);
    assert.equal(events[0].data.note, want.note, `item ${itemId} note`);
  }
  assert.equal(expected.size, 20);
}));

// A decided row stays where it was, marked, while the moderator keeps going (the list
// does not shift under every key), j/k pass over it, and it leaves once they pause.
test("a decided row stays marked while keys keep coming, k passes over it, and a pause sweeps it", withScreenshotOnFailure(() => app, "decided-row", async () => {
  const rowState = (id) =>
    app.browser.execute((itemId) => {
      const row = document.querySelector(`[data-testid="item-row"][data-item-id="${itemId}"]`);
      return row ? { decided: row.getAttribute("data-decided"), current: row.getAttribute("aria-current") } : null;
    }, id);
  const before = await app.pressAndWaitForNext("j");
  const decided = await app.pressAndWaitForNext("j");
  const after = await app.pressAndWaitForNext("a");
  assert.deepEqual(await rowState(decided), { decided: "approve", current: null }, "the decided row is still listed, marked");
  assert.equal((await rowState(after))?.current, "true", "the next row is the one on screen");
  assert.equal(await app.pressAndWaitForNext("k"), before, "k passes over the decided row");
  await app.screenshot("decided-row-marked");
  assert.equal((await rowState(decided))?.decided, "approve", "still marked while keys keep coming");
  await waitFor("the decided row to leave after a pause", async () => (await rowState(decided)) === null, 5_000, 50);
  assert.equal(await app.currentItemId(), before, "the item on screen stays");
  assert.equal((await rowState(before))?.current, "true", "and stays selected in the list");
  await app.waitForSynced(60_000);
  const admin = await adminClient(server.url);
  const events = await waitFor(`the decision on ${decided}`, async () => {
    const found = await admin.decisionsOn(decided);
    return found.length ? found : null;
  }, 20_000, 300);
  assert.equal(events.length, 1);
  assert.equal(events[0].data.action, "approve");
}));

test("bulk: select three with x, remove them after a confirmation that states the count", withScreenshotOnFailure(() => app, "bulk", async () => {
  const ids = [];
  for (let n = 0; n < 3; n++) {
    ids.push(await app.currentItemId());
    await app.keys("x");
    if (n < 2) await app.pressAndWaitForNext("j");
  }
  await waitFor("three selected", async () => (await app.count("bulk-bar")) === 3, 5_000, 50);
  await app.keys("r");
  const dialog = await app.$("confirm-dialog");
  await dialog.waitForDisplayed({ timeout: 5_000 });
  assert.match(await app.text('[data-testid="confirm-title"]'), /Remove 3 items\?/);
  await app.screenshot("bulk-confirm");
  // Esc cancels: nothing decided.
  await app.keys("Escape");
  await dialog.waitForDisplayed({ reverse: true, timeout: 5_000 });
  assert.equal(await app.count("bulk-bar"), 3);
  await app.keys("r");
  await dialog.waitForDisplayed({ timeout: 5_000 });
  await app.keys("Enter");
  await waitFor("the selection to clear", async () => (await app.attr('[data-testid="bulk-bar"]', "data-count")) === null, 5_000, 50);
  for (const id of ids) {
    assert.equal(await app.attr(`[data-testid="item-row"][data-item-id="${id}"]`, "data-item-id"), null, `item ${id} still listed`);
  }
  await app.waitForSynced(60_000);
  const admin = await adminClient(server.url);
  for (const id of ids) {
    const events = await waitFor(`the bulk decision on ${id}`, async () => {
      const found = await admin.decisionsOn(id);
      return found.length ? found : null;
    }, 20_000, 300);
    assert.equal(events.length, 1);
    assert.equal(events[0].data.action, "remove");
  }
}));

test("? shows the shortcuts and Ctrl+K runs a command from the palette", withScreenshotOnFailure(() => app, "palette", async () => {
  await app.keys("?");
  const help = await app.$("shortcut-help");
  await help.waitForDisplayed({ timeout: 5_000 });
  await app.screenshot("shortcut-help");
  await app.keys("Escape");
  await help.waitForDisplayed({ reverse: true, timeout: 5_000 });

  await app.keys("Control", "k");
  await app.keys("Control"); // release the modifier
  const palette = await app.$("command-palette");
  await palette.waitForDisplayed({ timeout: 5_000 });
  await app.screenshot("palette");
  await app.keys("dark theme");
  await app.keys("Enter");
  await palette.waitForDisplayed({ reverse: true, timeout: 5_000 });
  await waitFor("the dark theme", async () => (await app.browser.execute(() => document.documentElement.dataset.theme)) === "dark", 5_000, 50);
  await app.screenshot("triage-dark");
  await app.setTheme("light");
  await app.screenshot("triage-light");
}));
