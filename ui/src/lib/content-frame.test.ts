import { describe, expect, it } from "vitest";
import { buildContentSrcdoc, CONTENT_FRAME_CSP, CONTENT_FRAME_SANDBOX } from "./content-frame";

describe("buildContentSrcdoc", () => {
  const doc = buildContentSrcdoc("<p>hello</p>");

  it("starts with the doctype and the CSP meta, before any content", () => {
    expect(doc.startsWith(`<!doctype html><meta http-equiv="Content-Security-Policy" content="${CONTENT_FRAME_CSP}">`)).toBe(true);
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
