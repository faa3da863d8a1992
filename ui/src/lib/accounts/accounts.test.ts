import { describe, expect, it } from "vitest";
import { availableActions, describeSuspension, pendingLabel, refusalMessage, suspendReasons } from "./accounts";

describe("account helpers", () => {
  it("offers suspend to active accounts and reactivate to suspended ones", () => {
    expect(availableActions({ status: "active" })).toContain("suspend");
    expect(availableActions({ status: "active" })).not.toContain("reactivate");
    expect(availableActions({ status: "suspended" })).toEqual(["reactivate", "force_logout", "send_password_reset"]);
  });

  it("keeps the reasons that fit suspending", () => {
    const template = (code: string, actions: string[]) => ({
      id: 1,
      scope: "account",
      code,
      label: code,
      text: "",
      actions,
    });
    expect(
      suspendReasons([template("spam", ["suspend"]), template("any", []), template("welcome", ["reactivate"])]).map(
        (t) => t.code,
      ),
    ).toEqual(["spam", "any"]);
  });

  it("says a 403 plainly", () => {
    expect(refusalMessage({ code: "permission_denied", message: "Not allowed." })).toBe(
      "Permission denied: the server says your role may not do this (403). Not allowed.",
    );
    expect(refusalMessage({ code: "conflict", message: "Already suspended." })).toBe("Already suspended.");
  });

  it("describes a suspension and a pending action", () => {
    expect(describeSuspension(24, "Spam")).toBe("for 24 hours · Spam");
    expect(describeSuspension(null, null)).toBe("until reactivated");
    expect(pendingLabel("suspend")).toBe("Suspension sending…");
  });
});
