import type { AppError, ErrorCode } from "./bindings";

/**
 * Every error code the Rust side can send, as a runtime list. The type check below fails
 * `npm run check` when the generated ErrorCode union gains or loses a member, so this list
 * cannot drift from bindings.ts silently.
 */
export const ERROR_CODES = [
  "invalid_credentials",
  "not_signed_in",
  "session_expired",
  "server_unreachable",
  "keychain_unavailable",
  "permission_denied",
  "not_found",
  "conflict",
  "invalid_input",
  "bad_response",
  "storage",
  "internal",
  "too_many_attempts",
  "unsent_work",
] as const satisfies readonly ErrorCode[];

type MissingCodes = Exclude<ErrorCode, (typeof ERROR_CODES)[number]>;
// If this line errors, add the codes named in the message to ERROR_CODES.
const everyCodeListed: [MissingCodes] extends [never] ? true : MissingCodes = true;
void everyCodeListed;

/** The one error type the UI sees from the backend; `code` and `message` mirror AppError. */
export class BackendError extends Error {
  readonly code: ErrorCode;
  /** The command that failed, for logs; never shown to the user. */
  readonly command: string;

  constructor(command: string, code: ErrorCode, message: string) {
    super(message);
    this.name = "BackendError";
    this.command = command;
    this.code = code;
  }

  toAppError(): AppError {
    return { code: this.code, message: this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

export function isAppError(value: unknown): value is AppError {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return isErrorCode(candidate.code) && typeof candidate.message === "string";
}

/**
 * Turns whatever a failed command produced into a BackendError. A well-formed AppError
 * keeps its code and message; anything else (Tauri rejects with a bare string when a
 * command is missing or its arguments do not deserialize, JS errors, garbage) becomes
 * `internal`, because the user cannot act on it differently.
 */
export function toBackendError(command: string, failure: unknown): BackendError {
  if (failure instanceof BackendError) return failure;
  if (isAppError(failure)) return new BackendError(command, failure.code, failure.message);
  const detail =
    failure instanceof Error ? failure.message : typeof failure === "string" ? failure : safeStringify(failure);
  return new BackendError(command, "internal", `Steward hit an internal error (${command}): ${detail}`);
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
