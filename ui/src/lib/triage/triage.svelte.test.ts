// The triage screen's rules without a DOM: the controller against a fake engine.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Backend, DecisionAction, ItemDetail, ItemSummary, QueueSummary } from "../backend";
import type { Toaster } from "./decisions.svelte";
import { triageCommands } from "./palette";
import { Triage } from "./triage.svelte";

function item(id: number): ItemSummary {
  return {
    id,
    queue_id: 1,
    state: "open",
    version: 1,
    title: `Item ${id}`,
    author_username: id % 2 ? "odd" : "even",
    report_count: 1,
    top_reason: null,
    created_at: "",
    updated_at: "",
    pending_action: null,
  };
}

function detailOf(summary: ItemSummary): ItemDetail {
  return {
    summary,
    safe_html: `<p>${summary.title}</p>`,
    blocked_images: 0,
    author: { id: 1, username: summary.author_username, status: "active" },
    object: null,
    reports: [],
    claim: null,
    claimed_by_me: false,
    author_history: [],
    author_strikes: 0,
  };
}

/** An engine with one queue of `total` open items; decisions take items out of it. */
function fakeEngine(total: number) {
  let open = Array.from({ length: total }, (_, i) => i + 1);
  const decided: { ids: number[]; action: DecisionAction; reason: string | null }[] = [];
  const queue: QueueSummary = { id: 1, slug: "q", name: "Queue", priority: 1, open_count: total, oldest_open_at: null };
  const backend = {
    listQueues: async () => [queue],
    listReasonTemplates: async () => [{ code: "spam", label: "Spam", text: "", actions: ["remove"] }],
    listItems: async (_queue: number, _state: string, _sort: string, offset: number, limit: number) => ({
      total: open.length,
      offset,
      items: open.slice(offset, offset + limit).map(item),
    }),
    getItem: async (id: number) => detailOf(item(id)),
    claimItem: async () => null,
    releaseItem: async () => null,
    decideItem: async (id: number, action: DecisionAction, reason: string | null = null) => {
      decided.push({ ids: [id], action, reason });
      open = open.filter((x) => x !== id);
      return { item: { ...item(id), pending_action: action }, undo_until: new Date(Date.now() + 5_000).toISOString() };
    },
    decideItems: async (ids: number[], action: DecisionAction, reason: string | null = null) => {
      decided.push({ ids, action, reason });
      open = open.filter((x) => !ids.includes(x));
      return { queued: ids.map(item), skipped: [], undo_until: new Date(Date.now() + 5_000).toISOString() };
    },
    undoLast: async () => {
      const last = decided.pop();
      if (last) open = [...last.ids, ...open].sort((a, b) => a - b);
      return { item_ids: last?.ids ?? [] };
    },
  };
  return { backend: backend as unknown as Backend, decided };
}

function toaster(): Toaster & { texts: string[] } {
  const texts: string[] = [];
  return { texts, toast: (_kind, text) => void texts.push(text), dismissUndo: () => {} };
}

const MOVE_DOWN = { kind: "move", step: 1, extend: false } as const;
const approve = { kind: "decide", action: "approve" } as const;

async function started(total: number, production = false) {
  const engine = fakeEngine(total);
  const toasts = toaster();
  const triage = new Triage(engine.backend, () => production, toasts);
  triage.start();
  await vi.waitFor(() => expect(triage.current?.id).toBe(1));
  return { triage, toasts, ...engine };
}

beforeEach(() => {
  // No DOM: animation frames are timers here.
  vi.stubGlobal("requestAnimationFrame", (callback: FrameRequestCallback) => setTimeout(() => callback(0), 0));
  vi.stubGlobal("cancelAnimationFrame", (id: number) => clearTimeout(id));
});
afterEach(() => vi.unstubAllGlobals());

describe("Triage", () => {
  it("shows the first item of the first queue, and j the next", async () => {
    const { triage } = await started(5);
    expect(triage.selectedQueue?.name).toBe("Queue");
    triage.key(MOVE_DOWN, 0, "j");
    expect(triage.current?.id).toBe(2);
    expect(triage.selectedIndex).toBe(1);
    triage.stop();
  });

  it("a decision marks its row, shows the next item at once and reaches the engine", async () => {
    const { triage, decided, toasts } = await started(5);
    triage.key(approve, 0, "a");
    expect(triage.current?.id).toBe(2);
    expect(triage.rows.decisionOf(1)).toBe("approve");
    // Marked rows are passed over: k from item 2 finds no open row above it.
    triage.key({ kind: "move", step: -1, extend: false }, 0, "k");
    expect(triage.current?.id).toBe(2);
    await vi.waitFor(() => expect(decided).toEqual([{ ids: [1], action: "approve", reason: null }]));
    await vi.waitFor(() => expect(toasts.texts).toContain("Approved “Item 1”"));
    triage.stop();
  });

  it("refuses a reason that does not fit the action, and asks before a removal on production", async () => {
    const { triage, decided } = await started(3, true);
    await vi.waitFor(() => expect(triage.reasons).toHaveLength(1));
    triage.key({ kind: "reason", index: 0 }, 0, "1");
    triage.key(approve, 0, "a");
    expect(triage.detailError).toContain("is not a reason to approve");
    triage.key({ kind: "escape" }, 0, "Escape");
    triage.key({ kind: "decide", action: "remove" }, 0, "r");
    expect(triage.confirmations.current?.title).toBe("Remove this item on production?");
    expect(decided).toEqual([]);
    triage.confirmations.accept();
    await vi.waitFor(() => expect(decided.map((d) => d.action)).toEqual(["remove"]));
    triage.stop();
  });

  it("bulk decisions ask first, then take their rows out; undo brings them back", async () => {
    const { triage, decided } = await started(6);
    triage.key({ kind: "toggle-select" }, 0, "x");
    triage.key({ kind: "move", step: 1, extend: true }, 0, "J");
    expect([...triage.selection]).toEqual([1, 2]);
    triage.key(approve, 0, "a");
    expect(triage.confirmations.current?.confirmLabel).toBe("Approve 2 items");
    triage.confirmations.accept();
    await vi.waitFor(() => expect(triage.rows.total).toBe(4));
    expect(decided).toEqual([{ ids: [1, 2], action: "approve", reason: null }]);
    expect(triage.selection.size).toBe(0);
    await triage.decisions.undo();
    expect(triage.rows.total).toBe(6);
    expect(triage.current?.id).toBe(1);
    triage.stop();
  });

  it("offers the palette's triage commands for the item on screen", async () => {
    const { triage } = await started(2);
    const labels = triageCommands(triage, () => {}).map((command) => command.label);
    expect(labels).toContain("Approve this item");
    expect(labels).toContain("Select every loaded item by @odd");
    expect(labels).toContain("Go to Queue");
    triage.stop();
  });
});
