import { describe, expect, it } from "vitest";
import type { ItemSummary, QueueSummary } from "../backend";
import { moveSelection, nextItemAfterDecision, sortQueues } from "./rules";

function item(id: number, overrides: Partial<ItemSummary> = {}): ItemSummary {
  return {
    id,
    queue_id: 1,
    state: "open",
    version: 1,
    title: `Item ${id}`,
    author_username: "someone",
    report_count: 1,
    top_reason: "spam",
    created_at: "2026-11-24T10:00:00Z",
    updated_at: "2026-11-24T10:00:00Z",
    pending_action: null,
    ...overrides,
  };
}

const ids = (found: ItemSummary | null) => found?.id ?? null;

describe("nextItemAfterDecision", () => {
  it("takes the next item below the decided one", () => {
    expect(ids(nextItemAfterDecision([item(1), item(2), item(3)], 2))).toBe(3);
  });
  it("skips items already decided locally or no longer open", () => {
    const items = [item(1), item(2), item(3, { pending_action: "remove" }), item(4, { state: "approved" }), item(5)];
    expect(ids(nextItemAfterDecision(items, 2))).toBe(5);
  });
  it("falls back to the nearest open item above when at the end", () => {
    const items = [item(1), item(2, { pending_action: "ignore" }), item(3)];
    expect(ids(nextItemAfterDecision(items, 3))).toBe(1);
  });
  it("returns null when nothing is left", () => {
    expect(nextItemAfterDecision([item(1)], 1)).toBeNull();
    expect(nextItemAfterDecision([], 1)).toBeNull();
  });
  it("picks the first open item when the decided one is not in the list", () => {
    expect(ids(nextItemAfterDecision([item(1, { pending_action: "approve" }), item(2)], 9))).toBe(2);
  });
});

describe("moveSelection", () => {
  const items = [item(1), item(2), item(3)];
  it("moves down and up and clamps at both ends", () => {
    expect(ids(moveSelection(items, 1, 1))).toBe(2);
    expect(ids(moveSelection(items, 3, 1))).toBe(3);
    expect(ids(moveSelection(items, 1, -1))).toBe(1);
  });
  it("starts at the top (down) or bottom (up) without a selection", () => {
    expect(ids(moveSelection(items, null, 1))).toBe(1);
    expect(ids(moveSelection(items, null, -1))).toBe(3);
  });
  it("returns null for an empty list", () => expect(moveSelection([], null, 1)).toBeNull());
});

describe("sortQueues", () => {
  const queue = (id: number, priority: number, open_count: number, name: string): QueueSummary => ({
    id,
    slug: name.toLowerCase(),
    name,
    priority,
    open_count,
    oldest_open_at: null,
  });
  it("orders by priority, then open count, then name", () => {
    const sorted = sortQueues([queue(1, 1, 5, "B"), queue(2, 3, 1, "C"), queue(3, 1, 5, "A"), queue(4, 1, 9, "D")]);
    expect(sorted.map((q) => q.id)).toEqual([2, 4, 3, 1]);
  });
});

describe("reasons, ranges and palette search", () => {
  it("fits a reason to the actions it names, or to all when it names none", async () => {
    const { reasonFits } = await import("./rules");
    expect(reasonFits({ actions: ["remove"] }, "remove")).toBe(true);
    expect(reasonFits({ actions: ["remove"] }, "approve")).toBe(false);
    expect(reasonFits({ actions: [] }, "escalate")).toBe(true);
  });
  it("collects loaded ids between two rows in either direction", async () => {
    const { idsBetween } = await import("./rules");
    const rows = [item(1), undefined, item(3), item(4)];
    expect(idsBetween((i) => rows[i], 3, 0)).toEqual([1, 3, 4]);
  });
  it("matches palette queries by word starts", async () => {
    const { matchesQuery } = await import("./rules");
    expect(matchesQuery("Approve item", "app")).toBe(true);
    expect(matchesQuery("Switch to queue Reported posts", "rep po")).toBe(true);
    expect(matchesQuery("Undo last decision", "remove")).toBe(false);
  });
});
