import { describe, expect, it } from "vitest";
import type { ItemPage, ItemSummary } from "../backend";
import { pageScrollOffset } from "../shared/scroll";
import { BLOCK_SIZE, ItemWindow } from "./item-window";

function item(id: number): ItemSummary {
  return {
    id,
    queue_id: 1,
    state: "open",
    version: 1,
    title: `Item ${id}`,
    author_username: "a",
    report_count: 1,
    top_reason: null,
    created_at: "",
    updated_at: "",
    pending_action: null,
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

describe("ItemWindow decided rows", () => {
  async function loaded(total: number) {
    const engine = fakeEngine(total);
    const window = new ItemWindow(engine.fetch, () => {});
    await window.refresh([0]);
    return { engine, window };
  }

  it("keeps a decided row in place, marked, until the sweep", async () => {
    const { window } = await loaded(10);
    window.markDecided([3], "approve");
    expect(window.at(2)?.id).toBe(3);
    expect(window.decisionOf(3)).toBe("approve");
    expect(window.total).toBe(10);
    expect(window.open).toBe(9);
    expect(window.sweep()).toBe(1);
    expect(window.at(2)?.id).toBe(4);
    expect(window.decisionOf(3)).toBeUndefined();
    expect(window.open).toBe(9);
    expect(window.sweep()).toBe(0);
  });

  it("steps over decided rows in both directions", async () => {
    const { window } = await loaded(10);
    window.markDecided([3, 4], "remove");
    // index 1 is id 2; ids 3 and 4 (indices 2, 3) are decided.
    expect(window.step(1, 1)).toBe(4);
    expect(window.step(4, -1)).toBe(1);
    expect(window.step(1, 1, 2)).toBe(5);
    expect(window.step(9, 1)).toBe(-1);
    expect(window.step(0, -1)).toBe(-1);
    window.markDecided([1, 2], "ignore");
    expect(window.step(4, -1)).toBe(-1);
  });

  it("unmarking brings the row back as open", async () => {
    const { window } = await loaded(5);
    window.markDecided([2], "approve");
    window.unmark([2]);
    expect(window.decisionOf(2)).toBeUndefined();
    expect(window.step(0, 1)).toBe(1);
    expect(window.sweep()).toBe(0);
    expect(window.total).toBe(5);
  });

  it("a page asked for before the mark cannot clear it, and a refresh keeps marks the engine still lists", async () => {
    const { engine, window } = await loaded(10);
    const stale = window.refresh([0]);
    window.markDecided([1], "approve");
    await stale;
    expect(window.decisionOf(1)).toBe("approve");
    // The engine has not written the decision yet: the row is still listed, still marked.
    await window.refresh([0]);
    expect(window.decisionOf(1)).toBe("approve");
    // Once written, a refresh drops the row and its mark.
    engine.decide(1);
    await window.refresh([0]);
    expect(window.decisionOf(1)).toBeUndefined();
    expect(window.open).toBe(9);
    expect(window.at(0)?.id).toBe(2);
  });
});

describe("pageScrollOffset", () => {
  // 10 rows of 50 px in view: rows 20..29 when scrolled to 1000.
  const range = { startIndex: 20, endIndex: 29 };
  it("does not scroll while the row is inside the view with a row to spare", () => {
    for (let index = 21; index <= 28; index++) expect(pageScrollOffset(index, range, 500, 50, 2)).toBeNull();
  });
  it("past the bottom, puts the row two rows below the top, so the next presses do not scroll", () => {
    expect(pageScrollOffset(29, range, 500, 50, 2)).toBe(27 * 50);
    const next = { startIndex: 27, endIndex: 36 };
    for (let index = 29; index <= 35; index++) expect(pageScrollOffset(index, next, 500, 50, 2)).toBeNull();
  });
  it("past the top, puts the row two rows above the bottom", () => {
    expect(pageScrollOffset(20, range, 500, 50, 2)).toBe(23 * 50 - 500);
  });
  it("a far jump lands the same way, and never above the start", () => {
    expect(pageScrollOffset(5000, range, 500, 50, 2)).toBe(4998 * 50);
    expect(pageScrollOffset(0, range, 500, 50, 2)).toBe(0);
    expect(pageScrollOffset(1, null, 500, 50, 2)).toBe(0);
  });
  it("a view too short for context puts the row at the top", () => {
    expect(pageScrollOffset(29, { startIndex: 27, endIndex: 29 }, 150, 50, 2)).toBe(29 * 50);
  });
});
