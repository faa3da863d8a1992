import { describe, expect, it } from "vitest";
import { isPaletteKey, triageCommandForKey, type KeyLike } from "./keyboard";

const press = (key: string, extra: Partial<KeyLike> = {}): KeyLike => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  target: { tagName: "BODY" } as unknown as EventTarget,
  ...extra,
});

describe("triageCommandForKey", () => {
  it("maps j/k to moves and a/r/e/i to decisions", () => {
    expect(triageCommandForKey(press("j"))).toEqual({ kind: "move", step: 1, extend: false });
    expect(triageCommandForKey(press("k"))).toEqual({ kind: "move", step: -1, extend: false });
    expect(triageCommandForKey(press("J"))).toEqual({ kind: "move", step: 1, extend: true });
    expect(triageCommandForKey(press("a"))).toEqual({ kind: "decide", action: "approve" });
    expect(triageCommandForKey(press("r"))).toEqual({ kind: "decide", action: "remove" });
    expect(triageCommandForKey(press("e"))).toEqual({ kind: "decide", action: "escalate" });
    expect(triageCommandForKey(press("i"))).toEqual({ kind: "decide", action: "ignore" });
  });
  it("maps the other triage keys", () => {
    expect(triageCommandForKey(press("n"))).toEqual({ kind: "note" });
    expect(triageCommandForKey(press("u"))).toEqual({ kind: "undo" });
    expect(triageCommandForKey(press("x"))).toEqual({ kind: "toggle-select" });
    expect(triageCommandForKey(press("?"))).toEqual({ kind: "help" });
    expect(triageCommandForKey(press("Enter"))).toEqual({ kind: "open" });
    expect(triageCommandForKey(press("Escape"))).toEqual({ kind: "escape" });
  });
  it("maps number keys to reasons, 1-based on the keyboard and 0-based in the list", () => {
    expect(triageCommandForKey(press("1"))).toEqual({ kind: "reason", index: 0 });
    expect(triageCommandForKey(press("9"))).toEqual({ kind: "reason", index: 8 });
    expect(triageCommandForKey(press("0"))).toBeNull();
  });
  it("opens the palette with Ctrl+K or Cmd+K, even from a text field", () => {
    const field = { tagName: "INPUT" } as unknown as EventTarget;
    expect(triageCommandForKey(press("k", { ctrlKey: true, target: field }))).toEqual({ kind: "palette" });
    expect(triageCommandForKey(press("k", { metaKey: true }))).toEqual({ kind: "palette" });
    expect(isPaletteKey(press("k", { ctrlKey: true, altKey: true }))).toBe(false);
  });
  it("ignores keys typed into fields", () => {
    for (const tagName of ["INPUT", "TEXTAREA", "SELECT"]) {
      expect(triageCommandForKey(press("a", { target: { tagName } as unknown as EventTarget }))).toBeNull();
    }
    expect(
      triageCommandForKey(
        press("a", { target: { tagName: "DIV", isContentEditable: true } as unknown as EventTarget }),
      ),
    ).toBeNull();
  });
  it("leaves modified keys and unbound keys alone", () => {
    expect(triageCommandForKey(press("r", { ctrlKey: true }))).toBeNull();
    expect(triageCommandForKey(press("a", { metaKey: true }))).toBeNull();
    expect(triageCommandForKey(press("A"))).toBeNull();
    expect(triageCommandForKey(press("z"))).toBeNull();
  });
});
