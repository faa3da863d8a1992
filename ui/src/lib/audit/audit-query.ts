import type { AuditQuery, ExportProgress } from "../backend";
import { blankToNull, rangeBounds, type RangePreset } from "../shared/time-range";

/** What the audit explorer's filter bar holds, as typed. */
export type AuditFilters = {
  text: string;
  actor: string;
  action: string;
  /** "account", "account:42" or "42" (an id of any type). */
  target: string;
  range: RangePreset;
  customFrom: string;
  customTo: string;
};

export const EMPTY_AUDIT_FILTERS: AuditFilters = {
  text: "",
  actor: "",
  action: "",
  target: "",
  range: "any",
  customFrom: "",
  customTo: "",
};

/** "account:42" -> type and id; "account" -> type only; "42" -> id only. */
export function parseTarget(target: string): { target_type: string | null; target_id: string | null } {
  const trimmed = target.trim();
  if (!trimmed) return { target_type: null, target_id: null };
  const colon = trimmed.indexOf(":");
  if (colon !== -1) {
    return { target_type: blankToNull(trimmed.slice(0, colon)), target_id: blankToNull(trimmed.slice(colon + 1)) };
  }
  if (/^\d+$/.test(trimmed)) return { target_type: null, target_id: trimmed };
  return { target_type: trimmed, target_id: null };
}

/** The engine's query for what the filter bar shows; blank fields are no filter. */
export function auditQueryFromFilters(filters: AuditFilters, nowMs: number): AuditQuery {
  const { from, to } = rangeBounds(filters.range, nowMs, filters.customFrom, filters.customTo);
  return {
    text: blankToNull(filters.text),
    actor: blankToNull(filters.actor?.replace(/^@/, "")),
    action: blankToNull(filters.action),
    ...parseTarget(filters.target),
    from,
    to,
  };
}

/** Whether any filter is set (the export then says "matching", not "all"). */
export function isFiltered(query: AuditQuery): boolean {
  return Object.values(query).some((value) => value !== null);
}

/** "1,234 of 10,000 rows · 12%", or "1,234 rows" while the total is unknown. */
export function formatExportProgress(progress: ExportProgress | null): string {
  if (!progress) return "Starting…";
  const done = progress.done.toLocaleString("en-US");
  if (progress.total === null || progress.total <= 0) return `${done} rows`;
  const percent = Math.min(100, Math.floor((progress.done / progress.total) * 100));
  return `${done} of ${progress.total.toLocaleString("en-US")} rows · ${percent}%`;
}

/** The bar's filled share in [0, 1], or null for an indeterminate bar. */
export function exportFraction(progress: ExportProgress | null): number | null {
  if (!progress || progress.total === null || progress.total <= 0) return null;
  return Math.max(0, Math.min(1, progress.done / progress.total));
}

/** "1,234 events" or "10,000+ events" when the engine stopped counting. */
export function formatAuditTotal(total: number, capped: boolean): string {
  return `${total.toLocaleString("en-US")}${capped ? "+" : ""} event${total === 1 && !capped ? "" : "s"}`;
}

/**
 * A one-line look at an event's data for the list ("reason: spam · hours: 24"). The data
 * is untrusted: this returns text, and the list renders it as text.
 */
export function dataPreview(dataJson: string, maxLength = 140): string {
  let text: string;
  try {
    const value: unknown = JSON.parse(dataJson);
    if (value && typeof value === "object" && !Array.isArray(value)) {
      text = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && v.length === 0))
        .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" · ");
    } else {
      text = typeof value === "string" ? value : JSON.stringify(value);
    }
  } catch {
    text = dataJson;
  }
  text = text.replace(/\s+/g, " ").trim();
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

/** Where an event's target lives in the app, when it has a screen. */
export type TargetLink = { view: "accounts" | "jobs" | "triage"; id: number } | null;

export function targetLink(targetType: string, targetId: string): TargetLink {
  const id = Number(targetId);
  if (!Number.isInteger(id) || id <= 0) return null;
  if (targetType === "account" || targetType === "member" || targetType === "user") return { view: "accounts", id };
  if (targetType === "job") return { view: "jobs", id };
  if (targetType === "item") return { view: "triage", id };
  return null;
}
