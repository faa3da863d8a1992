import { describe, expect, it } from "vitest";
import { triageCommandForKey, type KeyLike } from "./keyboard";

const press = (key: string, extra: Partial<KeyLike> = {}): KeyLike => ({
  key, ctrlKey: false, metaKey: false, altKey: false, target: { tagName: "BODY" } as unknown as EventTarget, ...extra,
});

describe("triageCommandForKey", () => {
  it("maps j/k to moves and a/r/e/i to decisions", () => {
    expect(triageCommandForKey(press("j"))).toEqual({ kind: "move", step: 1 });
    expect(triageCommandForKey(press("k"))).toEqual({ kind: "move", step: -1 });
    expect(triageCommandForKey(press("a"))).toEqual({ kind: "decide", action: "approve" });
    expect(triageCommandForKey(press("r"))).toEqual({ kind: "decide", action: "remove" });
    expect(triageCommandForKey(press("e"))).toEqual({ kind: "decide", action: "escalate" });
    expect(triageCommandForKey(press("i"))).toEqual({ kind: "decide", action: "ignore" });
  });
  it("ignores keys typed into fields", () => {
    for (const tagName of ["INPUT", "TEXTAREA", "SELECT"]) {
      expect(triageCommandForKey(press("a", { target: { tagName } as unknown as EventTarget }))).toBeNull();
    }
    expect(triageCommandForKey(press("a", { target: { tagName: "DIV", isContentEditable: true } as unknown as EventTarget }))).toBeNull();
  });
  it("leaves modified keys and unbound keys alone", () => {
    expect(triageCommandForKey(press("r", { ctrlKey: true }))).toBeNull();
    expect(triageCommandForKey(press("a", { metaKey: true }))).toBeNull();
    expect(triageCommandForKey(press("A"))).toBeNull();
    expect(triageCommandForKey(press("x"))).toBeNull();
  });
});
