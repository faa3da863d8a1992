import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { debounce } from "./debounce";
import { BLOCK_SIZE, BlockWindow } from "./block-window";
import { blankToNull, rangeBounds } from "./time-range";
import { allowedViews, can, shortcutHints } from "../shell/views";

describe("debounce", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("calls once per pause, with the last arguments", () => {
    const run = vi.fn();
    const typed = debounce(run, 150);
    typed("s");
    vi.advanceTimersByTime(100);
    typed("su");
    vi.advanceTimersByTime(100);
    typed("sus");
    expect(run).not.toHaveBeenCalled();
    vi.advanceTimersByTime(150);
    expect(run).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledWith("sus");
  });

  it("flush runs a waiting call now and cancel drops it", () => {
    const run = vi.fn();
    const typed = debounce(run, 150);
    typed("a");
    typed.flush();
    expect(run).toHaveBeenCalledWith("a");
    typed("b");
    typed.cancel();
    vi.advanceTimersByTime(500);
    expect(run).toHaveBeenCalledTimes(1);
    typed.flush();
    expect(run).toHaveBeenCalledTimes(1);
  });
});

describe("allowedViews", () => {
  it("shows a tab only for a held permission", () => {
    expect(allowedViews({ permissions: ["items.view", "items.decide"] })).toEqual(["triage"]);
    expect(allowedViews({ permissions: ["items.view", "audit.view", "accounts.view", "accounts.act"] })).toEqual([
      "triage",
      "accounts",
      "audit",
    ]);
    expect(allowedViews({ permissions: ["jobs.view", "audit.view", "accounts.view", "items.view"] })).toEqual([
      "triage",
      "accounts",
      "audit",
      "jobs",
    ]);
    expect(can({ permissions: ["jobs.view"] }, "jobs.act")).toBe(false);
  });
});

describe("rangeBounds", () => {
  const now = Date.parse("2026-11-24T12:00:00Z");
  it("turns presets into a lower bound and custom fields into both", () => {
    expect(rangeBounds("any", now)).toEqual({ from: null, to: null });
    expect(rangeBounds("24h", now)).toEqual({ from: "2026-11-23T12:00:00.000Z", to: null });
    const custom = rangeBounds("custom", now, "2026-11-20T10:00", "");
    expect(custom.to).toBeNull();
    expect(custom.from).toBe(new Date("2026-11-20T10:00").toISOString());
    expect(rangeBounds("custom", now, "garbage", " ")).toEqual({ from: null, to: null });
  });
  it("treats blank text as no filter", () => {
    expect(blankToNull("  ")).toBeNull();
    expect(blankToNull(" alice ")).toBe("alice");
  });
});

describe("BlockWindow", () => {
  function pages(total: number, calls: number[] = []) {
    return async (offset: number, limit: number) => {
      calls.push(offset);
      const rows = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => offset + i);
      return { total, offset, rows };
    };
  }

  it("loads the first block, then the blocks asked for", async () => {
    const calls: number[] = [];
    const changed = vi.fn();
    const window = new BlockWindow<number>(pages(1_000, calls), changed);
    await window.refresh();
    expect(window.total).toBe(1_000);
    expect(window.at(0)).toBe(0);
    expect(window.at(BLOCK_SIZE + 1)).toBe(BLOCK_SIZE + 1);
    expect(window.at(3 * BLOCK_SIZE)).toBeUndefined();
    window.ensure(3 * BLOCK_SIZE, 3 * BLOCK_SIZE + 10);
    await vi.waitFor(() => expect(window.at(3 * BLOCK_SIZE)).toBe(3 * BLOCK_SIZE));
    expect(changed).toHaveBeenCalled();
  });

  it("finds a loaded row by a predicate, and never an unloaded one", async () => {
    const window = new BlockWindow<number>(pages(1_000), () => {});
    await window.refresh();
    expect(window.indexWhere((row) => row === 5)).toBe(5);
    expect(window.indexWhere((row) => row === 900)).toBe(-1);
  });

  it("grows past a capped total a block at a time", async () => {
    const capped = async (offset: number, limit: number) => {
      const rows = Array.from({ length: Math.max(0, Math.min(limit, 1_000 - offset)) }, (_, i) => offset + i);
      return { total: Math.min(1_000, 400), offset, rows, open: true };
    };
    const window = new BlockWindow<number>(capped, () => {});
    await window.refresh();
    // Blocks 0 and 1 came back full, so one more block is promised.
    expect(window.total).toBe(3 * BLOCK_SIZE);
    for (let block = 2; block < 6; block++) {
      window.ensure(block * BLOCK_SIZE, block * BLOCK_SIZE);
      if (block * BLOCK_SIZE < 1_000) {
        await vi.waitFor(() => expect(window.at(block * BLOCK_SIZE)).toBe(block * BLOCK_SIZE));
      }
    }
    await vi.waitFor(() => expect(window.total).toBe(1_000));
    // The last page came back short: the list ends at the real last row.
    expect(window.total).toBe(1_000);
  });

  it("drops the answer of an older query", async () => {
    let release: () => void = () => {};
    const slow = (offset: number) =>
      new Promise<{ total: number; offset: number; rows: string[] }>((resolve) => {
        release = () => resolve({ total: 1, offset, rows: ["old"] });
      });
    const window = new BlockWindow<string>(slow, () => {});
    const first = window.refresh();
    const second = window.query(async (offset) => ({ total: 1, offset, rows: ["new"] }));
    await second;
    release();
    await first;
    expect(window.at(0)).toBe("new");
  });
});

describe("shortcutHints", () => {
  const admin = { permissions: ["items.view", "items.decide", "accounts.view", "audit.view", "jobs.view", "jobs.act"] };
  const keysOf = (view: Parameters<typeof shortcutHints>[0], user = admin) =>
    shortcutHints(view, user).flatMap((hint) => hint.keys);

  it("shows the decision keys on triage only", () => {
    expect(keysOf("triage")).toEqual(expect.arrayContaining(["a", "r", "e", "i", "u", "x"]));
    for (const view of ["accounts", "audit", "jobs"] as const) {
      for (const key of ["a", "e", "i", "u", "x", "?"]) expect(keysOf(view)).not.toContain(key);
    }
  });

  it("shows each screen's own keys", () => {
    expect(keysOf("accounts")).toEqual(["j", "k", "/", "Ctrl K"]);
    expect(keysOf("audit")).toEqual(["j", "k", "/", "Esc", "Ctrl K"]);
    expect(keysOf("jobs")).toEqual(["j", "k", "r", "Ctrl K"]);
    expect(keysOf("jobs", { permissions: ["jobs.view"] })).toEqual(["j", "k", "Ctrl K"]);
  });
});
