import type { DecisionAction } from "../backend";

/** Everything a key can ask of the triage screen. */
export type TriageCommand =
  | { kind: "move"; step: 1 | -1; extend: boolean }
  | { kind: "decide"; action: DecisionAction }
  | { kind: "reason"; index: number }
  | { kind: "note" }
  | { kind: "undo" }
  | { kind: "toggle-select" }
  | { kind: "help" }
  | { kind: "palette" }
  | { kind: "open" }
  | { kind: "escape" };

const PLAIN: Record<string, TriageCommand> = {
  j: { kind: "move", step: 1, extend: false },
  k: { kind: "move", step: -1, extend: false },
  ArrowDown: { kind: "move", step: 1, extend: false },
  ArrowUp: { kind: "move", step: -1, extend: false },
  J: { kind: "move", step: 1, extend: true },
  K: { kind: "move", step: -1, extend: true },
  a: { kind: "decide", action: "approve" },
  r: { kind: "decide", action: "remove" },
  e: { kind: "decide", action: "escalate" },
  i: { kind: "decide", action: "ignore" },
  n: { kind: "note" },
  u: { kind: "undo" },
  x: { kind: "toggle-select" },
  "?": { kind: "help" },
  Enter: { kind: "open" },
  Escape: { kind: "escape" },
};

/** The key each decision is bound to, for the hints on the buttons. */
export const DECISION_KEYS: Record<DecisionAction, string> = {
  approve: "A",
  remove: "R",
  escalate: "E",
  ignore: "I",
};

/** Every shortcut, grouped, for the ? overlay and the palette's hints. */
export const SHORTCUTS: { group: string; keys: { keys: string[]; label: string }[] }[] = [
  {
    group: "Move",
    keys: [
      { keys: ["j", "↓"], label: "Next item" },
      { keys: ["k", "↑"], label: "Previous item" },
      { keys: ["Enter"], label: "Open the item under the cursor" },
    ],
  },
  {
    group: "Decide",
    keys: [
      { keys: ["a"], label: "Approve" },
      { keys: ["r"], label: "Remove" },
      { keys: ["e"], label: "Escalate" },
      { keys: ["i"], label: "Ignore" },
      { keys: ["1", "…", "9"], label: "Pick a reason before deciding" },
      { keys: ["n"], label: "Write a note for the next decision" },
      { keys: ["u"], label: "Undo the last decision (until it is sent)" },
    ],
  },
  {
    group: "Bulk",
    keys: [
      { keys: ["x"], label: "Select or unselect the item" },
      { keys: ["Shift", "J / K"], label: "Extend the selection down / up" },
      { keys: ["a r e i"], label: "Decide every selected item (asks first)" },
      { keys: ["Esc"], label: "Clear the selection, close a dialog" },
    ],
  },
  {
    group: "Anywhere",
    keys: [
      { keys: ["Ctrl/⌘", "K"], label: "Command palette" },
      { keys: ["?"], label: "This help" },
    ],
  },
];

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

/** True for Ctrl+K (Cmd+K on macOS): the palette opens from anywhere, even a text field. */
export function isPaletteKey(event: KeyLike): boolean {
  return (event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "k" || event.key === "K");
}

/** The triage command for a key press, or null when the key is not ours to take. */
export function triageCommandForKey(event: KeyLike): TriageCommand | null {
  if (isPaletteKey(event)) return { kind: "palette" };
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (isTypingTarget(event.target)) return null;
  if (/^[1-9]$/.test(event.key)) return { kind: "reason", index: Number(event.key) - 1 };
  return PLAIN[event.key] ?? null;
}
