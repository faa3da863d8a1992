import { describe, expect, it } from "vitest";
import {
  EMPTY_AUDIT_FILTERS,
  auditQueryFromFilters,
  dataPreview,
  exportFraction,
  formatAuditTotal,
  formatExportProgress,
  isFiltered,
  parseTarget,
  targetLink,
} from "./audit-query";

const now = Date.parse("2026-11-24T12:00:00Z");

describe("auditQueryFromFilters", () => {
  it("maps an empty filter bar to an empty query", () => {
    const query = auditQueryFromFilters(EMPTY_AUDIT_FILTERS, now);
    expect(query).toEqual({
      text: null,
      actor: null,
      action: null,
      target_type: null,
      target_id: null,
      from: null,
      to: null,
    });
    expect(isFiltered(query)).toBe(false);
  });

  it("trims fields, drops the @ of an actor and splits the target", () => {
    const query = auditQueryFromFilters(
      {
        ...EMPTY_AUDIT_FILTERS,
        text: " spam wave ",
        actor: "@support",
        action: "account.suspend",
        target: "account:42",
        range: "7d",
      },
      now,
    );
    expect(query).toEqual({
      text: "spam wave",
      actor: "support",
      action: "account.suspend",
      target_type: "account",
      target_id: "42",
      from: "2026-11-17T12:00:00.000Z",
      to: null,
    });
    expect(isFiltered(query)).toBe(true);
  });

  it("reads a bare number as an id and a bare word as a type", () => {
    expect(parseTarget("17")).toEqual({ target_type: null, target_id: "17" });
    expect(parseTarget("job")).toEqual({ target_type: "job", target_id: null });
    expect(parseTarget("job:")).toEqual({ target_type: "job", target_id: null });
    expect(parseTarget("  ")).toEqual({ target_type: null, target_id: null });
  });
});

describe("export progress", () => {
  it("formats a known and an unknown total", () => {
    expect(formatExportProgress(null)).toBe("Starting…");
    expect(formatExportProgress({ done: 1234, total: 10_000 })).toBe("1,234 of 10,000 rows · 12%");
    expect(formatExportProgress({ done: 20_000, total: null })).toBe("20,000 rows");
    expect(formatExportProgress({ done: 12, total: 10 })).toBe("12 of 10 rows · 100%");
  });
  it("gives the bar a clamped share, or none when indeterminate", () => {
    expect(exportFraction({ done: 5, total: 10 })).toBe(0.5);
    expect(exportFraction({ done: 50, total: 10 })).toBe(1);
    expect(exportFraction({ done: 5, total: null })).toBeNull();
    expect(exportFraction(null)).toBeNull();
  });
});

describe("list helpers", () => {
  it("says when the count was capped", () => {
    expect(formatAuditTotal(1, false)).toBe("1 event");
    expect(formatAuditTotal(10_000, true)).toBe("10,000+ events");
  });

  it("previews data as one line of text, whatever it holds", () => {
    expect(dataPreview('{\n  "reason": "spam",\n  "hours": 24,\n  "note": ""\n}')).toBe("reason: spam · hours: 24");
    expect(dataPreview("<img src=x onerror=alert(1)>")).toBe("<img src=x onerror=alert(1)>");
    expect(dataPreview(JSON.stringify({ note: "x".repeat(300) }), 20)).toHaveLength(20);
  });

  it("links accounts, jobs and items", () => {
    expect(targetLink("account", "42")).toEqual({ view: "accounts", id: 42 });
    expect(targetLink("job", "7")).toEqual({ view: "jobs", id: 7 });
    expect(targetLink("item", "3")).toEqual({ view: "triage", id: 3 });
    expect(targetLink("queue", "3")).toBeNull();
    expect(targetLink("account", "abc")).toBeNull();
  });
});
