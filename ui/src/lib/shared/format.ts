const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const YEAR = 365 * DAY;

/**
 * Compact age of a timestamp, the way a queue is scanned: "now", "12m", "3h", "5d", "2w",
 * "1y". Whole units, rounded down, so an item never looks older than it is. A timestamp
 * in the future (clock skew between server and laptop) reads as "now".
 */
export function formatAge(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return "—";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "—";
  const elapsed = nowMs - then;
  if (elapsed < MINUTE) return "now";
  if (elapsed < HOUR) return `${Math.floor(elapsed / MINUTE)}m`;
  if (elapsed < DAY) return `${Math.floor(elapsed / HOUR)}h`;
  if (elapsed < 2 * WEEK) return `${Math.floor(elapsed / DAY)}d`;
  if (elapsed < YEAR) return `${Math.floor(elapsed / WEEK)}w`;
  return `${Math.floor(elapsed / YEAR)}y`;
}

/** Local wall-clock time of a timestamp ("14:05"), or the date when it is not today. */
export function formatClock(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return "never";
  const then = new Date(iso);
  if (Number.isNaN(then.getTime())) return "never";
  const now = new Date(nowMs);
  const sameDay =
    then.getFullYear() === now.getFullYear() && then.getMonth() === now.getMonth() && then.getDate() === now.getDate();
  const pad = (n: number) => String(n).padStart(2, "0");
  const time = `${pad(then.getHours())}:${pad(then.getMinutes())}`;
  return sameDay ? time : `${then.getFullYear()}-${pad(then.getMonth() + 1)}-${pad(then.getDate())} ${time}`;
}

/** "spam" -> "Spam", "hate_speech" -> "Hate speech": reason codes as labels. */
export function humanizeCode(code: string): string {
  const words = code.replace(/[_-]+/g, " ").trim();
  if (!words) return code;
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Host (and port) of a server URL for the environment badge; the input when unparsable. */
export function serverLabel(serverUrl: string): string {
  try {
    return new URL(serverUrl).host || serverUrl;
  } catch {
    return serverUrl;
  }
}

/** Counts that fit a pill: 999, 1.2k, 30k, 1.1M. The exact number goes in a tooltip. */
export function formatCount(count: number): string {
  if (count < 1_000) return String(count);
  if (count < 10_000) return `${(Math.floor(count / 100) / 10).toString()}k`;
  if (count < 1_000_000) return `${Math.floor(count / 1_000)}k`;
  return `${(Math.floor(count / 100_000) / 10).toString()}M`;
}

/** What a failure says, for a banner or a toast. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
