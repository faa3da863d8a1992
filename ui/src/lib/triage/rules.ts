import type { DecisionAction, ItemSort, ItemSummary, QueueSummary, ReasonTemplate } from "../backend";

/** Queues as the sidebar shows them: most urgent first, then fullest, then by name. */
export function sortQueues(queues: readonly QueueSummary[]): QueueSummary[] {
  return [...queues].sort(
    (a, b) => b.priority - a.priority || b.open_count - a.open_count || a.name.localeCompare(b.name),
  );
}

/** An item still waits for a decision: open on the server and none queued locally. */
export function isActionable(item: ItemSummary): boolean {
  return item.state === "open" && item.pending_action === null;
}

/**
 * The item to show after deciding `decidedId`, chosen from the list already in memory so
 * the moderator never waits on the network: the next actionable item below it, else the
 * nearest actionable one above it, else none.
 */
export function nextItemAfterDecision(items: readonly ItemSummary[], decidedId: number): ItemSummary | null {
  const index = items.findIndex((item) => item.id === decidedId);
  if (index === -1) return items.find((item) => item.id !== decidedId && isActionable(item)) ?? null;
  for (let i = index + 1; i < items.length; i++) if (isActionable(items[i])) return items[i];
  for (let i = index - 1; i >= 0; i--) if (isActionable(items[i])) return items[i];
  return null;
}

/**
 * The item `step` rows away from `currentId` (j/k), clamped to the list. With nothing
 * selected, moving down starts at the top and moving up at the bottom.
 */
export function moveSelection(
  items: readonly ItemSummary[],
  currentId: number | null,
  step: number,
): ItemSummary | null {
  if (items.length === 0) return null;
  const index = currentId === null ? -1 : items.findIndex((item) => item.id === currentId);
  if (index === -1) return step >= 0 ? items[0] : items[items.length - 1];
  const target = Math.min(items.length - 1, Math.max(0, index + step));
  return items[target];
}

/** Replaces one item of a list by id (the optimistic update after a decision). */
export function replaceItem(items: readonly ItemSummary[], updated: ItemSummary): ItemSummary[] {
  return items.map((item) => (item.id === updated.id ? updated : item));
}

export const DECISION_LABELS: Record<DecisionAction, string> = {
  approve: "Approve",
  remove: "Remove",
  escalate: "Escalate",
  ignore: "Ignore",
};

export const DECISION_PAST: Record<DecisionAction, string> = {
  approve: "approved",
  remove: "removed",
  escalate: "escalated",
  ignore: "ignored",
};

/** Whether a reason template may go with an action (an empty list fits every action). */
export function reasonFits(template: Pick<ReasonTemplate, "actions">, action: DecisionAction): boolean {
  return template.actions.length === 0 || template.actions.includes(action);
}

/** The sort orders the item list cycles through, with their labels. */
export const SORTS: { sort: ItemSort; label: string }[] = [
  { sort: "oldest_first", label: "Oldest first" },
  { sort: "newest_first", label: "Newest first" },
  { sort: "most_reported", label: "Most reported" },
];

/**
 * The ids between two rows, both included, from what is loaded: shift-click and J/K
 * extend a selection this way. Rows not loaded yet are skipped.
 */
export function idsBetween(rowAt: (index: number) => ItemSummary | undefined, from: number, to: number): number[] {
  const ids: number[] = [];
  for (let i = Math.min(from, to); i <= Math.max(from, to); i++) {
    const row = rowAt(i);
    if (row) ids.push(row.id);
  }
  return ids;
}

/** Palette search: every word typed must start a word of the label (or the keywords). */
export function matchesQuery(text: string, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = text
    .toLowerCase()
    .split(/[^a-z0-9@#]+/)
    .filter(Boolean);
  return words.every(
    (word) => haystack.some((candidate) => candidate.startsWith(word)) || text.toLowerCase().includes(word),
  );
}
