import { describe, expect, it } from "vitest";
import { formatAge, humanizeCode, serverLabel } from "./format";

const now = Date.parse("2026-11-24T12:00:00Z");
const ago = (ms: number) => new Date(now - ms).toISOString();

describe("formatAge", () => {
  const cases: Array<[string | null, string]> = [
    [null, "—"],
    ["not a date", "—"],
    [ago(-5_000), "now"],
    [ago(59_000), "now"],
    [ago(60_000), "1m"],
    [ago(59 * 60_000), "59m"],
    [ago(3 * 3600_000 + 59 * 60_000), "3h"],
    [ago(24 * 3600_000), "1d"],
    [ago(13 * 86400_000), "13d"],
    [ago(15 * 86400_000), "2w"],
    [ago(400 * 86400_000), "1y"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} -> ${expected}`, () => expect(formatAge(input, now)).toBe(expected));
  }
});

describe("humanizeCode", () => {
  it("turns reason codes into labels", () => {
    expect(humanizeCode("spam")).toBe("Spam");
    expect(humanizeCode("hate_speech")).toBe("Hate speech");
  });
});

describe("serverLabel", () => {
  it("keeps host and port", () => expect(serverLabel("http://127.0.0.1:8000/")).toBe("127.0.0.1:8000"));
  it("returns unparsable input as is", () => expect(serverLabel("nope")).toBe("nope"));
});

describe("formatCount", () => {
  it("shortens large counts without rounding up", async () => {
    const { formatCount } = await import("./format");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(1_250)).toBe("1.2k");
    expect(formatCount(30_000)).toBe("30k");
    expect(formatCount(1_190_000)).toBe("1.1M");
  });
});
