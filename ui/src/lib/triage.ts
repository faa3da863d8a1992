import type { DecisionAction, ItemSummary, QueueSummary } from "./backend";

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
