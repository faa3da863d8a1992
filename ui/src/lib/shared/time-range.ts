/** Time-range presets shared by the audit log and the jobs list. */
export type RangePreset = "any" | "1h" | "24h" | "7d" | "30d" | "custom";

export const RANGE_PRESETS: { preset: RangePreset; label: string; ms: number | null }[] = [
  { preset: "any", label: "Any time", ms: null },
  { preset: "1h", label: "Last hour", ms: 3_600_000 },
  { preset: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { preset: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { preset: "30d", label: "Last 30 days", ms: 30 * 86_400_000 },
  { preset: "custom", label: "Custom…", ms: null },
];

/**
 * The [from, to) bounds (ISO 8601, UTC) of a range. Custom bounds come from
 * datetime-local inputs ("2026-11-20T14:05", local time); an empty or invalid one is open.
 */
export function rangeBounds(
  preset: RangePreset,
  nowMs: number,
  customFrom = "",
  customTo = "",
): { from: string | null; to: string | null } {
  if (preset === "custom") return { from: localToIso(customFrom), to: localToIso(customTo) };
  const span = RANGE_PRESETS.find((entry) => entry.preset === preset)?.ms ?? null;
  return { from: span === null ? null : new Date(nowMs - span).toISOString(), to: null };
}

function localToIso(value: string): string | null {
  const trimmed = value.trim();
  if (!trimmed) return null;
  const ms = new Date(trimmed).getTime();
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** A blank field is no filter: trims, and turns "" into null. */
export function blankToNull(value: string | null | undefined): string | null {
  const trimmed = (value ?? "").trim();
  return trimmed === "" ? null : trimmed;
}
