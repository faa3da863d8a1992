import type { DecisionAction } from "./backend";

export type TriageCommand =
  | { kind: "move"; step: 1 | -1 }
  | { kind: "decide"; action: DecisionAction };

const BINDINGS: Record<string, TriageCommand> = {
  j: { kind: "move", step: 1 },
  k: { kind: "move", step: -1 },
  a: { kind: "decide", action: "approve" },
  r: { kind: "decide", action: "remove" },
  e: { kind: "decide", action: "escalate" },
  i: { kind: "decide", action: "ignore" },
};

/** The key each decision is bound to, for the hints on the buttons. */
export const DECISION_KEYS: Record<DecisionAction, string> = {
  approve: "A",
  remove: "R",
  escalate: "E",
  ignore: "I",
};

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  target: EventTarget | null;
}

/** True when a key press belongs to a text field, not to the triage shortcuts. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (typeof target !== "object" || target === null) return false;
  const element = target as { tagName?: string; isContentEditable?: boolean };
  const tag = (element.tagName ?? "").toUpperCase();
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable === true;
}

/** The triage command for a key press, or null when the key is not ours to take. */
export function triageCommandForKey(event: KeyLike): TriageCommand | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (isTypingTarget(event.target)) return null;
  return BINDINGS[event.key] ?? null;
}
