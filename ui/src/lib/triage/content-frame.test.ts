import { describe, expect, it } from "vitest";
import { assignSlots, buildContentSrcdoc, CONTENT_FRAME_CSP, CONTENT_FRAME_SANDBOX } from "./content-frame";

describe("buildContentSrcdoc", () => {
  const doc = buildContentSrcdoc("<p>hello</p>");

  it("starts with the doctype and the CSP meta, before any content", () => {
    expect(
      doc.startsWith(`<!doctype html><meta http-equiv="Content-Security-Policy" content="${CONTENT_FRAME_CSP}">`),
    ).toBe(true);
    expect(doc.indexOf("Content-Security-Policy")).toBeLessThan(doc.indexOf("<p>hello</p>"));
  });

  it("blocks scripts and remote loads in its CSP", () => {
    expect(CONTENT_FRAME_CSP).toContain("default-src 'none'");
    expect(CONTENT_FRAME_CSP).not.toMatch(/script-src|unsafe-eval|https?:/);
    expect(CONTENT_FRAME_CSP).toContain("img-src data:");
  });

  it("includes the content once, after the head", () => {
    expect(doc.endsWith("<body><p>hello</p></body>")).toBe(true);
  });

  it("keeps content that tries to close the head or redefine the CSP after the real one", () => {
    const hostile = buildContentSrcdoc('</style><meta http-equiv="Content-Security-Policy" content="default-src *">');
    expect(hostile.indexOf(CONTENT_FRAME_CSP)).toBeLessThan(hostile.indexOf("default-src *"));
  });

  it("follows the app's theme, not the OS's", () => {
    expect(buildContentSrcdoc("<p>x</p>", "dark")).toContain("background: #0f1115");
    expect(buildContentSrcdoc("<p>x</p>", "light")).not.toContain("#0f1115");
  });

  it("sandboxes with no permissions at all", () => {
    expect(CONTENT_FRAME_SANDBOX).toBe("");
    expect(CONTENT_FRAME_SANDBOX).not.toContain("allow-scripts");
    expect(CONTENT_FRAME_SANDBOX).not.toContain("allow-same-origin");
  });
});

describe("assignSlots", () => {
  const empty = (n: number) => Array.from({ length: n }, () => ({ id: null, html: "" }));
  const item = (id: number, html = `<p>${id}</p>`) => ({ id, html });

  it("places the item on screen first and the neighbours after it", () => {
    expect(assignSlots(empty(3), [item(1), item(2), item(3), item(4)]).map((s) => s.id)).toEqual([1, 2, 3]);
  });

  it("keeps a frame that already holds a wanted item, so moving to it swaps no document", () => {
    const held = assignSlots(empty(3), [item(1), item(2), item(3)]);
    const next = assignSlots(held, [item(2), item(3), item(4)]);
    expect(next.map((s) => s.id)).toEqual([4, 2, 3]);
    expect(next[1].html).toBe("<p>2</p>");
  });

  it("places only as many missing items as asked, leaving the other frames alone", () => {
    const held = assignSlots(empty(3), [item(1), item(2), item(3)]);
    // j to an item no frame holds: only it is placed now; neighbours wait.
    const now = assignSlots(held, [item(7), item(8), item(2)], 1);
    expect(now.map((s) => s.id)).toEqual([7, 2, 3]);
    expect(assignSlots(now, [item(7), item(8), item(2)]).map((s) => s.id)).toEqual([7, 2, 8]);
  });

  it("swaps no document when the item on screen is already held, whatever the neighbours", () => {
    const held = assignSlots(empty(3), [item(1), item(2), item(3)]);
    // j to item 2, which a frame holds: its new neighbour 4 waits for the next frame.
    expect(assignSlots(held, [item(2), item(3), item(4)], 1)).toEqual(held);
  });

  it("updates the HTML of a held item (images shown) in its own frame", () => {
    const held = assignSlots(empty(2), [item(1), item(2)]);
    const next = assignSlots(held, [item(1, "<p>1 with images</p>"), item(2)]);
    expect(next.map((s) => [s.id, s.html])).toEqual([
      [1, "<p>1 with images</p>"],
      [2, "<p>2</p>"],
    ]);
  });

  it("ignores a duplicate and stops when every frame holds a wanted item", () => {
    expect(assignSlots(empty(2), [item(1), item(1), item(2), item(3)]).map((s) => s.id)).toEqual([1, 2]);
  });
});
