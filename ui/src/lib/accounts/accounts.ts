import type { AccountAction, AccountSummary, AppError, ReasonTemplate } from "../backend";

/** Suspension lengths offered; null is "until reactivated". */
export const SUSPEND_DURATIONS: { hours: number | null; label: string }[] = [
  { hours: 1, label: "1 hour" },
  { hours: 24, label: "24 hours" },
  { hours: 72, label: "3 days" },
  { hours: 168, label: "7 days" },
  { hours: 720, label: "30 days" },
  { hours: null, label: "Until reactivated" },
];

export const ACCOUNT_ACTION_LABELS: Record<AccountAction, string> = {
  suspend: "Suspend",
  reactivate: "Reactivate",
  force_logout: "Force logout",
  send_password_reset: "Send password reset",
};

const PENDING_LABELS: Record<AccountAction, string> = {
  suspend: "Suspension",
  reactivate: "Reactivation",
  force_logout: "Logout",
  send_password_reset: "Password reset",
};

/** "Suspension sending…" for an action the server has not confirmed yet. */
export function pendingLabel(action: AccountAction): string {
  return `${PENDING_LABELS[action]} sending…`;
}

/** The account reasons that fit suspending (a template naming no action fits any). */
export function suspendReasons(templates: ReasonTemplate[]): ReasonTemplate[] {
  return templates.filter((template) => template.actions.length === 0 || template.actions.includes("suspend"));
}

/** Which actions make sense for the account as it is now (before permissions). */
export function availableActions(account: Pick<AccountSummary, "status">): AccountAction[] {
  return account.status === "suspended"
    ? ["reactivate", "force_logout", "send_password_reset"]
    : ["suspend", "force_logout", "send_password_reset"];
}

/**
 * A refusal as the support person should read it. A 403 says plainly that their role may
 * not do this, since the button was shown from permissions the server has since changed.
 */
export function refusalMessage(error: Pick<AppError, "code" | "message">): string {
  if (error.code === "permission_denied") {
    return `Permission denied: the server says your role may not do this (403). ${error.message}`.trim();
  }
  return error.message;
}

/** "Suspended for 24 hours: Spam (note)", the line a confirmation or a toast shows. */
export function describeSuspension(hours: number | null, reasonLabel: string | null): string {
  const span = SUSPEND_DURATIONS.find((entry) => entry.hours === hours)?.label.toLowerCase() ?? `${hours} hours`;
  const length = hours === null ? "until reactivated" : `for ${span}`;
  return reasonLabel ? `${length} · ${reasonLabel}` : length;
}
