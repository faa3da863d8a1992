import type { RefusedAction, UnsentWork } from "../backend";

/** "3 decisions, 1 note and 2 conflicts": what the counts say, in words (as the engine words it). */
export function describeUnsent(work: UnsentWork): string {
  const parts = (
    [
      [work.decisions, "decision", "decisions"],
      [work.account_actions, "account action", "account actions"],
      [work.notes, "note", "notes"],
      [work.job_actions, "job action", "job actions"],
      [work.conflicts, "conflict", "conflicts"],
      [work.refused, "refused action", "refused actions"],
    ] as const
  )
    .filter(([count]) => count > 0)
    .map(([count, one, many]) => `${count} ${count === 1 ? one : many}`);
  if (parts.length === 0) return "nothing";
  if (parts.length === 1) return parts[0];
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

const ACTION_WORDS: Record<string, string> = {
  approve: "Approve",
  remove: "Remove",
  escalate: "Escalate",
  ignore: "Ignore",
  suspend: "Suspend",
  reactivate: "Reactivate",
  force_logout: "Force logout of",
  send_password_reset: "Send a password reset to",
  note: "Note on",
  retry: "Retry",
  cancel: "Cancel",
  claim: "Claim",
  release: "Release",
};

/** "Remove “Buy cheap watches”", "Note on @member7", "Retry job 12 (send_email)". */
export function refusedTitle(entry: RefusedAction): string {
  const verb = ACTION_WORDS[entry.action] ?? entry.action;
  const label = entry.target_label;
  switch (entry.target_type) {
    case "item":
      return `${verb} “${label ?? `item ${entry.target_id}`}”`;
    case "account":
      return `${verb} ${label ? `@${label}` : `account ${entry.target_id}`}`;
    default:
      return `${verb} job ${entry.target_id}${label ? ` (${label})` : ""}`;
  }
}

/** A little before the engine's window ends, so the undo button is gone before the row can go out. */
export const UNDO_MARGIN_MS = 300;

/** How long the undo toast may stay: until `undoUntil` (the engine's), less a margin; never negative. */
export function undoToastMs(undoUntil: string, now: number): number {
  const until = Date.parse(undoUntil);
  if (Number.isNaN(until)) return 0;
  return Math.max(0, until - now - UNDO_MARGIN_MS);
}
