import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AppState, ItemSummary } from "./bindings";
import { BackendError, ERROR_CODES, isAppError, toBackendError } from "./errors";
import { createBackend, type Commands } from "./ipc";

function fakeCommands(overrides: Partial<Commands>): Commands {
  const unexpected = () => Promise.reject(new Error("not faked"));
  return {
    getAppState: unexpected,
    signIn: unexpected,
    signOut: unexpected,
    getUnsentWork: unexpected,
    listRefused: unexpected,
    dismissRefused: unexpected,
    listQueues: unexpected,
    listQueueItems: unexpected,
    getItem: unexpected,
    loadItemImages: unexpected,
    decideItem: unexpected,
    decideItems: unexpected,
    undoLast: unexpected,
    listItems: unexpected,
    claimItem: unexpected,
    releaseItem: unexpected,
    listReasonTemplates: unexpected,
    listConflicts: unexpected,
    resolveConflict: unexpected,
    listProfiles: unexpected,
    saveProfile: unexpected,
    switchProfile: unexpected,
    syncNow: unexpected,
    getSyncStatus: unexpected,
    setContentFocus: unexpected,
    ...overrides,
  } as Commands;
}

let consoleError: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => consoleError.mockRestore());

describe("createBackend", () => {
  it("returns the data of an ok result", async () => {
    const queues = [{ id: 1, slug: "spam", name: "Spam", priority: 2, open_count: 3, oldest_open_at: null }];
    const backend = createBackend(fakeCommands({ listQueues: async () => ({ status: "ok", data: queues }) }));
    await expect(backend.listQueues()).resolves.toEqual(queues);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it("throws a BackendError with the AppError's code and message, and logs the command", async () => {
    const backend = createBackend(
      fakeCommands({
        signIn: async () => ({
          status: "error",
          error: { code: "invalid_credentials", message: "Wrong username or password." },
        }),
      }),
    );
    const failure = await backend.signIn("http://x", "moderator", "bad").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BackendError);
    expect(failure).toMatchObject({
      code: "invalid_credentials",
      message: "Wrong username or password.",
      command: "sign_in",
    });
    expect(String(consoleError.mock.calls[0][0])).toContain("sign_in");
  });

  it("maps a bare string rejection (unknown command) to internal", async () => {
    const backend = createBackend(
      fakeCommands({ decideItem: async () => ({ status: "error", error: "command decide_item not found" as never }) }),
    );
    const failure = await backend.decideItem(1, "approve").catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: "internal", command: "decide_item" });
    expect((failure as Error).message).toContain("command decide_item not found");
  });

  it("wraps errors thrown past the generated wrapper", async () => {
    const backend = createBackend(fakeCommands({ getAppState: () => Promise.reject(new Error("ipc down")) }));
    await expect(backend.getAppState()).rejects.toMatchObject({ code: "internal", command: "get_app_state" });
  });

  it("passes null for absent reason and note", async () => {
    const decideItem = vi.fn(async () => ({
      status: "ok" as const,
      data: { item: {} as ItemSummary, undo_until: "" },
    }));
    const backend = createBackend(fakeCommands({ decideItem }));
    await backend.decideItem(7, "remove");
    expect(decideItem).toHaveBeenCalledWith(7, "remove", null, null);
  });

  it("unwraps the app state", async () => {
    const state: AppState = { session: null, default_server_url: "http://127.0.0.1:8000", needs_sign_in_reason: null };
    const backend = createBackend(fakeCommands({ getAppState: async () => ({ status: "ok", data: state }) }));
    await expect(backend.getAppState()).resolves.toBe(state);
  });
});

describe("new commands", () => {
  it("forwards a windowed list request unchanged", async () => {
    const page = { total: 100_000, offset: 200, items: [] };
    const listItems = vi.fn(async () => ({ status: "ok" as const, data: page }));
    const backend = createBackend(fakeCommands({ listItems }));
    await expect(backend.listItems(3, "open", "oldest_first", 200, 200)).resolves.toBe(page);
    expect(listItems).toHaveBeenCalledWith(3, "open", "oldest_first", 200, 200);
  });

  it("turns 'nothing to undo' into a BackendError the UI can show", async () => {
    const backend = createBackend(
      fakeCommands({
        undoLast: async () => ({ status: "error", error: { code: "invalid_input", message: "Nothing to undo." } }),
      }),
    );
    await expect(backend.undoLast()).rejects.toMatchObject({ code: "invalid_input", message: "Nothing to undo." });
  });

  it("unwraps the images the engine inlined", async () => {
    const loadItemImages = vi.fn(async () => ({
      status: "ok" as const,
      data: '<img src="data:image/png;base64,AA==">',
    }));
    const backend = createBackend(fakeCommands({ loadItemImages }));
    await expect(backend.loadItemImages(9)).resolves.toContain("data:image/png");
    expect(loadItemImages).toHaveBeenCalledWith(9);
  });

  it("passes a conflict resolution through", async () => {
    const resolveConflict = vi.fn(async () => ({ status: "ok" as const, data: null }));
    const backend = createBackend(fakeCommands({ resolveConflict }));
    await backend.resolveConflict(4, { kind: "decide_again", action: "remove", reason_code: "spam", note: null });
    expect(resolveConflict).toHaveBeenCalledWith(4, {
      kind: "decide_again",
      action: "remove",
      reason_code: "spam",
      note: null,
    });
  });
});

describe("error mapping", () => {
  it("recognises every contract code as an AppError", () => {
    for (const code of ERROR_CODES) expect(isAppError({ code, message: "m" })).toBe(true);
  });
  it("rejects unknown codes and malformed shapes", () => {
    expect(isAppError({ code: "teapot", message: "m" })).toBe(false);
    expect(isAppError({ code: "internal" })).toBe(false);
    expect(isAppError(null)).toBe(false);
  });
  it("keeps BackendErrors as they are", () => {
    const original = new BackendError("sync_now", "server_unreachable", "Cannot reach the server.");
    expect(toBackendError("other", original)).toBe(original);
  });
  it("serialises back to the AppError shape", () => {
    expect(new BackendError("x", "conflict", "Changed elsewhere.").toAppError()).toEqual({
      code: "conflict",
      message: "Changed elsewhere.",
    });
  });
});
