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
    listQueues: unexpected,
    listQueueItems: unexpected,
    getItem: unexpected,
    decideItem: unexpected,
    syncNow: unexpected,
    getSyncStatus: unexpected,
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
    expect(failure).toMatchObject({ code: "invalid_credentials", message: "Wrong username or password.", command: "sign_in" });
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
    const decideItem = vi.fn(async () => ({ status: "ok" as const, data: {} as ItemSummary }));
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
    expect(new BackendError("x", "conflict", "Changed elsewhere.").toAppError()).toEqual({ code: "conflict", message: "Changed elsewhere." });
  });
});
