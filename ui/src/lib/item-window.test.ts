import { describe, expect, it } from "vitest";
import type { ItemPage, ItemSummary } from "./backend";
import { BLOCK_SIZE, ItemWindow } from "./item-window";

function item(id: number): ItemSummary {
  return {
    id, queue_id: 1, state: "open", version: 1, title: `Item ${id}`, author_username: "a",
    report_count: 1, top_reason: null, created_at: "", updated_at: "", pending_action: null,
  };
}

/** A fake engine list: ids 1..total in order, minus the ones decided. */
function fakeEngine(total: number) {
  let ids = Array.from({ length: total }, (_, i) => i + 1);
  const calls: number[] = [];
  const fetch = async (offset: number, limit: number): Promise<ItemPage> => {
    calls.push(offset);
    return { total: ids.length, offset, items: ids.slice(offset, offset + limit).map(item) };
  };
  return { fetch, calls, decide: (id: number) => (ids = ids.filter((x) => x !== id)) };
}

describe("ItemWindow", () => {
  it("loads the first blocks on refresh and reads rows synchronously", async () => {
    const engine = fakeEngine(100_000);
    const window = new ItemWindow(engine.fetch, () => {});
    await window.refresh([0]);
    expect(window.total).toBe(100_000);
    expect(window.at(0)?.id).toBe(1);
    expect(window.at(BLOCK_SIZE + 5)?.id).toBe(BLOCK_SIZE + 6);
    expect(window.at(5_000)).toBeUndefined();
  });

  it("loads a far block on demand, once", async () => {
    const engine = fakeEngine(100_000);
    const window = new ItemWindow(engine.fetch, () => {});
    await window.refresh([0]);
    window.ensure(50_000, 50_020);
    window.ensure(50_000, 50_020);
    await new Promise((r) => setTimeout(r, 0));
    expect(window.at(50_010)?.id).toBe(50_011);
    expect(engine.calls.filter((offset) => offset === 50_000 - (50_000 % BLOCK_SIZE))).toHaveLength(1);
  });

  it("removes a decided row at once so the next item takes its index", async () => {
    const engine = fakeEngine(10);
    const window = new ItemWindow(engine.fetch, () => {});
    await window.refresh([0]);
    window.remove([3]);
    expect(window.total).toBe(9);
    expect(window.at(2)?.id).toBe(4);
    expect(window.indexOf(3)).toBe(-1);
  });

  it("drops a page that was asked for before a local decision", async () => {
    const engine = fakeEngine(10);
    const window = new ItemWindow(engine.fetch, () => {});
    await window.refresh([0]);
    const stale = window.refresh([0]); // starts before the decision is recorded
    window.remove([1]);
    engine.decide(1);
    await stale;
    expect(window.at(0)?.id).toBe(2);
    expect(window.total).toBe(9);
  });
});
