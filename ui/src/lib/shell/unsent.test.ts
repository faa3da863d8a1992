import { describe, expect, it } from "vitest";
import type { RefusedAction, UnsentWork } from "../backend";
import { describeUnsent, refusedTitle, undoToastMs, UNDO_MARGIN_MS } from "./unsent";

const none: UnsentWork = { decisions: 0, account_actions: 0, notes: 0, job_actions: 0, conflicts: 0, refused: 0 };

describe("describeUnsent", () => {
  it("says what would be lost in words", () => {
    expect(describeUnsent(none)).toBe("nothing");
    expect(describeUnsent({ ...none, decisions: 1 })).toBe("1 decision");
    expect(describeUnsent({ ...none, decisions: 3, notes: 1, conflicts: 2 })).toBe(
      "3 decisions, 1 note and 2 conflicts",
    );
    expect(describeUnsent({ ...none, account_actions: 2, refused: 1 })).toBe("2 account actions and 1 refused action");
  });
});

describe("refusedTitle", () => {
  const entry: RefusedAction = {
    outbox_id: 1,
    target_type: "item",
    target_id: 12,
    target_label: "Buy cheap watches",
    action: "remove",
    reason_code: "spam",
    text: "",
    message: "You do not have permission to do this.",
    created_at: "2026-11-25T10:00:00Z",
  };

  it("names the action and its target", () => {
    expect(refusedTitle(entry)).toBe("Remove “Buy cheap watches”");
    expect(refusedTitle({ ...entry, target_label: null })).toBe("Remove “item 12”");
    expect(
      refusedTitle({ ...entry, target_type: "account", target_id: 7, target_label: "member7", action: "note" }),
    ).toBe("Note on @member7");
    expect(
      refusedTitle({ ...entry, target_type: "job", target_id: 3, target_label: "send_email", action: "retry" }),
    ).toBe("Retry job 3 (send_email)");
  });
});

describe("undoToastMs", () => {
  it("ends the undo toast before the engine's window does", () => {
    const now = Date.parse("2026-11-25T10:00:00.000Z");
    expect(undoToastMs("2026-11-25T10:00:05.000Z", now)).toBe(5_000 - UNDO_MARGIN_MS);
    expect(undoToastMs("2026-11-25T10:00:00.100Z", now)).toBe(0);
    expect(undoToastMs("2026-11-25T09:59:00.000Z", now)).toBe(0);
    expect(undoToastMs("not a time", now)).toBe(0);
  });
});
