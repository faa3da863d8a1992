import { describe, expect, it } from "vitest";
import { nextThemePreference, readThemePreference, resolveTheme } from "./theme";

describe("theme", () => {
  it("follows the OS when the choice is system", () => {
    expect(resolveTheme("system", true)).toBe("dark");
    expect(resolveTheme("system", false)).toBe("light");
    expect(resolveTheme("light", true)).toBe("light");
  });
  it("reads only known choices", () => {
    expect(readThemePreference({ getItem: () => "dark" })).toBe("dark");
    expect(readThemePreference({ getItem: () => "neon" })).toBe("system");
    expect(readThemePreference(undefined)).toBe("system");
  });
  it("cycles light, dark, system", () => {
    expect(nextThemePreference("light")).toBe("dark");
    expect(nextThemePreference("dark")).toBe("system");
    expect(nextThemePreference("system")).toBe("light");
  });
});
