// The support and admin commands (accounts, the audit log, jobs), wrapped like ipc.ts
// wraps the triage ones: plain values out, a thrown BackendError on failure, the command
// name logged. Kept in its own file so the triage backend and this one grow apart freely.
import { commands, events } from "./bindings";
import type {
  AccountAction,
  AccountDetail,
  AccountNote,
  AccountSummary,
  AppError,
  AuditPage,
  AuditQuery,
  ExportProgress,
  JobAction,
  JobBulkOutcome,
  JobDetail,
  JobPage,
  JobQuery,
  JobStats,
  JobsFailed,
  ReasonTemplate,
} from "./bindings";
import { toBackendError } from "./errors";
import type { Commands, Unlisten } from "./ipc";

type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: AppError };

export interface SupportBackend {
  /** Through the server when it answers, else over the cached accounts. */
  searchAccounts(query: string, status: string | null): Promise<AccountSummary[]>;
  getAccount(accountId: number): Promise<AccountDetail>;
  /** Optimistic: the outbox pushes it; a refusal arrives later as an actionRefused event. */
  actOnAccount(
    accountId: number,
    action: AccountAction,
    durationHours: number | null,
    reasonCode: string | null,
    note: string | null,
  ): Promise<AccountSummary>;
  addAccountNote(accountId: number, body: string): Promise<AccountNote[]>;
  listAccountReasons(): Promise<ReasonTemplate[]>;
  searchAudit(query: AuditQuery, offset: number, limit: number): Promise<AuditPage>;
  /** Writes the CSV and resolves to its path; progress arrives as exportProgress events. */
  exportAuditCsv(query: AuditQuery): Promise<string>;
  listJobs(query: JobQuery, offset: number, limit: number): Promise<JobPage>;
  getJob(jobId: number): Promise<JobDetail>;
  jobStats(): Promise<JobStats>;
  countMatchingJobs(query: JobQuery): Promise<number>;
  actOnJobs(jobIds: number[], action: JobAction): Promise<JobBulkOutcome>;
  retryMatchingJobs(query: JobQuery): Promise<JobBulkOutcome>;
}

export function createSupportBackend(cmds: Commands): SupportBackend {
  async function call<T>(name: string, run: () => Promise<CommandResult<T>>): Promise<T> {
    let result: CommandResult<T>;
    try {
      result = await run();
    } catch (thrown) {
      throw fail(name, thrown);
    }
    if (result.status === "error") throw fail(name, result.error);
    return result.data;
  }

  return {
    searchAccounts: (query, status) => call("search_accounts", () => cmds.searchAccounts(query, status)),
    getAccount: (accountId) => call("get_account", () => cmds.getAccount(accountId)),
    actOnAccount: (accountId, action, durationHours, reasonCode, note) =>
      call("act_on_account", () => cmds.actOnAccount(accountId, action, durationHours, reasonCode, note)),
    addAccountNote: (accountId, body) => call("add_account_note", () => cmds.addAccountNote(accountId, body)),
    listAccountReasons: () => call("list_reason_templates", () => cmds.listReasonTemplates("account")),
    searchAudit: (query, offset, limit) => call("search_audit", () => cmds.searchAudit(query, offset, limit)),
    exportAuditCsv: (query) => call("export_audit_csv", () => cmds.exportAuditCsv(query)),
    listJobs: (query, offset, limit) => call("list_jobs", () => cmds.listJobs(query, offset, limit)),
    getJob: (jobId) => call("get_job", () => cmds.getJob(jobId)),
    jobStats: () => call("job_stats", () => cmds.jobStats()),
    countMatchingJobs: (query) => call("count_matching_jobs", () => cmds.countMatchingJobs(query)),
    actOnJobs: (jobIds, action) => call("act_on_jobs", () => cmds.actOnJobs(jobIds, action)),
    retryMatchingJobs: (query) => call("retry_matching_jobs", () => cmds.retryMatchingJobs(query)),
  };
}

function fail(command: string, failure: unknown) {
  const error = toBackendError(command, failure);
  console.error(`backend command ${command} failed: [${error.code}] ${error.message}`, failure);
  return error;
}

export const supportBackend: SupportBackend = createSupportBackend(commands);

/** Jobs failed since the engine's last pull (the shell also raises the OS notification). */
export function onJobsFailed(handler: (failed: JobsFailed) => void): Promise<Unlisten> {
  return events.jobsFailed.listen((event: { payload: JobsFailed }) => handler(event.payload));
}

/** Rows written so far by the running audit export. */
export function onExportProgress(handler: (progress: ExportProgress) => void): Promise<Unlisten> {
  return events.exportProgress.listen((event: { payload: ExportProgress }) => handler(event.payload));
}
