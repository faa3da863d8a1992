import type { UserInfo } from "../backend";

/** The screens of the console, in the order of the navigation. */
export type View = "triage" | "accounts" | "audit" | "jobs";

export const VIEWS: { view: View; label: string; permission: string; key: string }[] = [
  { view: "triage", label: "Triage", permission: "items.view", key: "1" },
  { view: "accounts", label: "Accounts", permission: "accounts.view", key: "2" },
  { view: "audit", label: "Audit log", permission: "audit.view", key: "3" },
  { view: "jobs", label: "Jobs", permission: "jobs.view", key: "4" },
];

/** The screens the signed-in user may open: a tab only shows when its permission is held. */
export function allowedViews(user: Pick<UserInfo, "permissions">): View[] {
  const held = new Set(user.permissions);
  return VIEWS.filter((entry) => held.has(entry.permission)).map((entry) => entry.view);
}

/** Whether the user holds a permission code (accounts.act, jobs.act, ...). */
export function can(user: Pick<UserInfo, "permissions">, permission: string): boolean {
  return user.permissions.includes(permission);
}

/** A shortcut shown in the status bar: its keys and what they do. */
export type ShortcutHint = { keys: string[]; label: string };

/**
 * The keys each screen answers to, for the status bar: a screen shows its own, never
 * another's (triage's decision keys do nothing on the accounts screen). Jobs' `r` shows
 * only to those who may retry.
 */
export function shortcutHints(view: View, user: Pick<UserInfo, "permissions">): ShortcutHint[] {
  const commands: ShortcutHint = { keys: ["Ctrl K"], label: "commands" };
  switch (view) {
    case "triage":
      return [
        { keys: ["j", "k"], label: "move" },
        { keys: ["a", "r", "e", "i"], label: "decide" },
        { keys: ["u"], label: "undo" },
        { keys: ["x"], label: "select" },
        { keys: ["?"], label: "help" },
        commands,
      ];
    case "accounts":
      return [{ keys: ["j", "k"], label: "move" }, { keys: ["/"], label: "search" }, commands];
    case "audit":
      return [
        { keys: ["j", "k"], label: "move" },
        { keys: ["/"], label: "search" },
        { keys: ["Esc"], label: "close event" },
        commands,
      ];
    case "jobs":
      return [
        { keys: ["j", "k"], label: "move" },
        ...(can(user, "jobs.act") ? [{ keys: ["r"], label: "retry" }] : []),
        commands,
      ];
  }
}
