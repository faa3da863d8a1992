import { tick } from "svelte";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import type {
  Backend,
  DecisionAction,
  ItemDetail,
  ItemSort,
  ItemSummary,
  QueueSummary,
  ReasonTemplate,
} from "../backend";
import { Confirmations } from "../shared/confirm.svelte";
import { messageOf } from "../shared/format";
import type { TriageCommand } from "../shared/keyboard";
import { beginNextItem, firstQueueShown, markKey, nextItemReady } from "../shared/perf";
import { afterPaint } from "../shared/schedule";
import { Decisions, type Toaster } from "./decisions.svelte";
import { ItemWindow } from "./item-window";
import { SORTS, idsBetween, sortQueues } from "./rules";

/** Opening an item claims it once the moderator stays this long, so j/k never floods the outbox. */
const CLAIM_DWELL_MS = 350;
/** Details read from the cache stay fresh this long before a background re-read. */
const DETAIL_FRESH_MS = 4_000;
// Re-reading the engine's lists after a change waits until the moderator pauses: the
// screen already shows every local change, and a refresh in the middle of fast j/a work
// would compete with painting the next item. Bursts (a delta feed, a drained outbox)
// become one refresh; it is never put off for more than REFRESH_MAX_WAIT_MS, except while
// rows decided here wait to be swept: a refresh would take them out and shift the list in
// the middle of a run of decisions, so it waits for the pause too.
const REFRESH_QUIET_MS = 150;
const REFRESH_MAX_WAIT_MS = 1_000;
// Decided rows stay, marked, until the keyboard has been still this long; long enough to
// see what was just decided, short enough that the list is tidy when one looks.
const SWEEP_QUIET_MS = 500;

/**
 * The triage screen's state and rules, apart from how they are drawn: the queues, the
 * windowed rows of the selected one, the item on screen with its details read ahead,
 * claims, the selection, images, and when the lists are read again. Decisions (single,
 * bulk, undo) are `decisions`. TriageScreen.svelte draws it; the shell asks it for its
 * palette commands and lets it go on sign-out. Vitest drives it with a fake backend.
 */
export class Triage {
  queues = $state<QueueSummary[]>([]);
  queuesLoading = $state(true);
  selectedQueueId = $state<number | null>(null);
  readonly selectedQueue = $derived(this.queues.find((q) => q.id === this.selectedQueueId) ?? null);

  sort = $state<ItemSort>("oldest_first");
  readonly sortLabel = $derived(SORTS.find((s) => s.sort === this.sort)?.label ?? this.sort);
  /** Bumped whenever the rows change: the signal the list redraws on. */
  listVersion = $state(0);
  /** Rows decided here that wait to be swept; reactive, so marking one redraws one row. */
  readonly decidedRows = new SvelteMap<number, DecisionAction>();
  readonly rows: ItemWindow;
  selectedIndex = $state(-1);
  readonly selection = new SvelteSet<number>();
  private selectionAnchor = -1;

  // The item on screen
  current = $state<ItemSummary | null>(null);
  detail = $state<ItemDetail | null>(null);
  detailError = $state<string | null>(null);
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- never drawn; `cachedDetails` says when it grew
  readonly detailCache = new Map<number, { detail: ItemDetail; at: number }>();
  /** Bumped when a prefetched detail lands, so the neighbours' frames can load it. */
  private cachedDetails = $state(0);
  /** The neighbours j, k or a decision shows next, for the content frames to load ahead. */
  readonly preload = $derived.by(() => {
    void this.cachedDetails;
    void this.listVersion;
    const ahead: { id: number; html: string }[] = [];
    for (const index of this.neighbours(this.selectedIndex, [1, 2, -1])) {
      const row = this.rows.at(index);
      const cached = row ? this.detailCache.get(row.id) : undefined;
      if (cached) ahead.push({ id: cached.detail.summary.id, html: cached.detail.safe_html });
    }
    return ahead;
  });
  imagesHtml = $state<string | null>(null);
  imagesLoading = $state(false);
  imagesError = $state<string | null>(null);

  // Decision reasons
  reasons = $state<ReasonTemplate[]>([]);

  readonly confirmations = new Confirmations();
  readonly decisions: Decisions;

  /** Ids this window claimed and has not released or decided yet. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never drawn
  readonly claimed = new Set<number>();
  private claimTimer: ReturnType<typeof setTimeout> | undefined;
  /** A row chosen before its block loaded (a far jump); shown once it arrives. */
  private pendingIndex: { index: number; start?: number } | null = null;
  private cancelPrefetch: (() => void) | undefined;

  /** When the last triage key was pressed (performance.now()). */
  lastKeyAt = 0;
  private sweepTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshAskedAt = 0;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never drawn
  private readonly changedCollections = new Set<string>();

  constructor(
    readonly backend: Backend,
    readonly production: () => boolean,
    toaster: Toaster,
  ) {
    this.rows = new ItemWindow(
      (offset, limit) =>
        this.selectedQueueId === null
          ? Promise.resolve({ total: 0, offset, items: [] })
          : backend.listItems(this.selectedQueueId, "open", this.sort, offset, limit),
      () => {
        this.listVersion++;
        this.showPendingRow();
      },
      this.decidedRows,
    );
    this.decisions = new Decisions(this, toaster);
  }

  /** Loads what the screen starts with. */
  start(): void {
    void this.loadQueues();
    void this.loadReasons();
  }

  /** Lets go of the screen: timers end and the claim on the item on screen is released. */
  stop(): void {
    this.leaveCurrent();
    clearTimeout(this.refreshTimer);
    clearTimeout(this.sweepTimer);
    this.cancelPrefetch?.();
  }

  /**
   * The decision reasons, from the cache: at start, and again when a pull brings new
   * ones (a new user's cache is empty until its first pull).
   */
  async loadReasons(): Promise<void> {
    try {
      const loaded = await this.backend.listReasonTemplates("decision");
      if (JSON.stringify(loaded) !== JSON.stringify(this.reasons)) this.reasons = loaded;
    } catch (error) {
      console.error("reason templates", error);
    }
  }

  // ---- queues and rows -------------------------------------------------------------

  async loadQueues(): Promise<void> {
    try {
      const loaded = sortQueues(await this.backend.listQueues());
      this.queues = loaded;
      if (this.selectedQueueId === null || !loaded.some((q) => q.id === this.selectedQueueId)) {
        const first = loaded[0]?.id ?? null;
        if (first !== null) void this.selectQueue(first);
      }
    } catch (error) {
      this.detailError = messageOf(error);
    } finally {
      this.queuesLoading = false;
    }
  }

  async selectQueue(queueId: number): Promise<void> {
    if (queueId === this.selectedQueueId && this.rows.ready) return;
    this.leaveCurrent();
    this.selectedQueueId = queueId;
    this.selection.clear();
    this.selectedIndex = -1;
    this.current = null;
    this.detail = null;
    this.detailError = null;
    this.rows.reset();
    await this.rows.refresh([0]);
    if (queueId !== this.selectedQueueId) return;
    if (this.rows.total > 0) {
      this.showIndex(0);
      firstQueueShown();
    }
  }

  /** Re-reads the rows around the selection; keeps the item on screen where it now is. */
  async refreshRows(): Promise<void> {
    await this.rows.refresh([Math.max(0, this.selectedIndex)]);
    // The item on screen now, not when the refresh began: the moderator may have moved
    // on meanwhile, and pointing the selection at the old item's place would make the
    // next j show the same item again.
    if (this.current === null) {
      // The queue was empty (say, during the first download) and items arrived: show the first.
      if (this.rows.total > 0) this.showIndex(0);
      return;
    }
    this.followCurrent();
  }

  /**
   * Points the selection at the item on screen after the rows moved under it (a refresh,
   * a sweep, a bulk removal, a new order); false when that item is no longer listed.
   */
  followCurrent(): boolean {
    const index = this.current ? this.rows.indexOf(this.current.id) : -1;
    if (index !== -1) this.selectedIndex = index;
    return index !== -1;
  }

  cycleSort(): void {
    const at = SORTS.findIndex((s) => s.sort === this.sort);
    void this.setSort(SORTS[(at + 1) % SORTS.length].sort);
  }

  async setSort(next: ItemSort): Promise<void> {
    this.sort = next;
    this.rows.reset();
    await this.rows.refresh([0]);
    if (!this.followCurrent() && this.rows.total > 0) this.showIndex(0);
  }

  // ---- the item on screen ------------------------------------------------------------

  /** Shows the row at `index`; `start` is the key press being measured, if any. */
  showIndex(index: number, start?: number): void {
    if (index < 0 || index >= this.rows.total) return;
    this.selectedIndex = index;
    const row = this.rows.at(index);
    if (!row) {
      // Not loaded yet (a far jump): load its block, then show it.
      markKey(`waiting for row ${index}`);
      this.rows.ensure(index, index);
      this.pendingIndex = { index, start };
      return;
    }
    this.pendingIndex = null;
    this.showItem(row, start);
  }

  private showPendingRow(): void {
    const pending = this.pendingIndex;
    if (!pending) return;
    const row = this.rows.at(pending.index);
    if (!row) return;
    this.pendingIndex = null;
    if (this.selectedIndex === pending.index) this.showItem(row, pending.start);
  }

  showItem(row: ItemSummary, start?: number): void {
    if (this.current?.id !== row.id) {
      this.leaveCurrent();
      this.imagesHtml = null;
      this.imagesError = null;
      this.detailError = null;
    }
    this.current = row;
    const cached = this.detailCache.get(row.id);
    this.detail = cached?.detail ?? null;
    if (start !== undefined) beginNextItem(start, row.id);
    if (cached) {
      if (start !== undefined) void tick().then(() => nextItemReady(row.id, "dom"));
      if (Date.now() - cached.at > DETAIL_FRESH_MS) void this.loadDetail(row.id);
    } else {
      void this.loadDetail(row.id).then(() => {
        if (start !== undefined && this.current?.id === row.id) void tick().then(() => nextItemReady(row.id, "dom"));
      });
    }
    this.scheduleClaim(row.id);
    // Reading the neighbours ahead is IPC work: after this item's frame, not before it.
    this.cancelPrefetch?.();
    const around = this.selectedIndex;
    this.cancelPrefetch = afterPaint(() => this.prefetchAround(around));
  }

  async loadDetail(itemId: number): Promise<void> {
    try {
      const loaded = await this.backend.getItem(itemId);
      const before = this.detailCache.get(itemId)?.detail;
      // Unchanged (the usual answer to a background re-read): keep the shown object, so
      // nothing re-renders under the moderator's next key press.
      const same = before !== undefined && JSON.stringify(before) === JSON.stringify(loaded);
      this.detailCache.set(itemId, { detail: same ? before : loaded, at: Date.now() });
      if (this.current?.id === itemId && !(same && this.detail === before)) this.detail = loaded;
    } catch (error) {
      if (this.current?.id === itemId) this.detailError = messageOf(error);
    }
  }

  /** Whether someone else holds a live claim on the item on screen. */
  claimedByOther(now: number): boolean {
    const detail = this.detail;
    return (
      detail !== null &&
      detail.summary.id === this.current?.id &&
      detail.claim !== null &&
      !detail.claimed_by_me &&
      Date.parse(detail.claim.expires_at) > now
    );
  }

  /** The open rows `offsets` steps away (j, jj, k...), passing over rows decided here. */
  neighbours(index: number, offsets: number[]): number[] {
    if (index < 0) return [];
    return offsets
      .map((offset) => this.rows.step(index, offset > 0 ? 1 : -1, Math.abs(offset)))
      .filter((i) => i !== -1);
  }

  /** Reads the next rows' details ahead, so j and a show them without waiting. */
  private prefetchAround(index: number): void {
    if (this.detailCache.size > 200) this.detailCache.clear();
    for (const at of this.neighbours(index, [1, 2, 3, -1])) {
      const row = this.rows.at(at);
      if (row && !this.detailCache.has(row.id)) {
        this.backend
          .getItem(row.id)
          .then((loaded) => {
            this.detailCache.set(row.id, { detail: loaded, at: Date.now() });
            this.cachedDetails++;
          })
          .catch(() => {});
      }
    }
  }

  clearItem(): void {
    this.leaveCurrent();
    this.current = null;
    this.detail = null;
    this.selectedIndex = -1;
  }

  // ---- claims ------------------------------------------------------------------------

  private scheduleClaim(itemId: number): void {
    clearTimeout(this.claimTimer);
    this.claimTimer = setTimeout(() => void this.claim(itemId), CLAIM_DWELL_MS);
  }

  private async claim(itemId: number): Promise<void> {
    if (this.current?.id !== itemId || this.claimed.has(itemId)) return;
    const shown = this.detail?.summary.id === itemId ? this.detail : null;
    if (shown?.claim && !shown.claimed_by_me && Date.parse(shown.claim.expires_at) > Date.now()) return;
    try {
      await this.backend.claimItem(itemId);
      this.claimed.add(itemId);
      this.detailCache.delete(itemId);
      if (this.current?.id === itemId) await this.loadDetail(itemId);
    } catch (error) {
      console.warn(`claiming item ${itemId} failed`, error);
    }
  }

  /** Leaving an item releases the claim this window took on it. */
  leaveCurrent(): void {
    clearTimeout(this.claimTimer);
    const id = this.current?.id;
    if (id === undefined || !this.claimed.has(id)) return;
    this.claimed.delete(id);
    this.detailCache.delete(id);
    this.backend.releaseItem(id).catch((error: unknown) => console.warn(`releasing item ${id} failed`, error));
  }

  /** The item was decided: the server ends its claim with the decision, and its detail is stale. */
  forget(itemId: number): void {
    this.claimed.delete(itemId);
    this.detailCache.delete(itemId);
    if (this.current?.id === itemId) clearTimeout(this.claimTimer);
  }

  // ---- selection ---------------------------------------------------------------------

  /** The row at `index` unless it was decided here and waits to be swept. */
  openRow(index: number): ItemSummary | undefined {
    const row = this.rows.at(index);
    return row && !this.rows.decisionOf(row.id) ? row : undefined;
  }

  toggleSelect(index = this.selectedIndex): void {
    const row = this.openRow(index);
    if (!row) return;
    if (this.selection.has(row.id)) this.selection.delete(row.id);
    else this.selection.add(row.id);
    this.selectionAnchor = index;
  }

  move(step: 1 | -1, extend: boolean, start?: number): void {
    const from = this.selectedIndex;
    // Rows decided here and not swept yet are passed over.
    const target =
      from < 0 ? (step > 0 ? this.rows.step(-1, 1) : this.rows.step(this.rows.total, -1)) : this.rows.step(from, step);
    if (target < 0) return;
    if (extend) {
      if (this.selection.size === 0 || this.selectionAnchor < 0) {
        this.selectionAnchor = Math.max(0, from);
        const row = this.rows.at(this.selectionAnchor);
        if (row) this.selection.add(row.id);
      }
      const row = this.rows.at(target);
      if (row) this.selection.add(row.id);
    }
    if (target !== from) this.showIndex(target, start);
  }

  rowClicked(index: number, event: Pick<MouseEvent, "shiftKey" | "ctrlKey" | "metaKey">): void {
    // A row decided here is on its way out.
    if (this.rows.at(index) && !this.openRow(index)) return;
    if (event.shiftKey && this.selectedIndex >= 0) {
      for (const id of idsBetween((i) => this.openRow(i), this.selectedIndex, index)) this.selection.add(id);
      this.selectionAnchor = index;
    } else if (event.ctrlKey || event.metaKey) {
      this.toggleSelect(index);
      return;
    }
    this.showIndex(index);
  }

  // ---- images ------------------------------------------------------------------------

  async showImages(): Promise<void> {
    if (!this.current) return;
    const itemId = this.current.id;
    this.imagesLoading = true;
    this.imagesError = null;
    try {
      const html = await this.backend.loadItemImages(itemId);
      if (this.current?.id === itemId) this.imagesHtml = html;
    } catch (error) {
      if (this.current?.id === itemId) this.imagesError = `Images could not be loaded: ${messageOf(error)}`;
    } finally {
      this.imagesLoading = false;
    }
  }

  /** Opens the item's object on the product's site in the system browser. */
  async openLink(): Promise<void> {
    if (!this.current) return;
    const itemId = this.current.id;
    try {
      await this.backend.openItemLink(itemId);
    } catch (error) {
      if (this.current?.id === itemId) this.detailError = `The link could not be opened: ${messageOf(error)}`;
    }
  }

  // ---- keys --------------------------------------------------------------------------

  /**
   * Carries out a triage key. `start` is when the key's handler began (performance.now()):
   * synthetic (WebDriver) events carry timestamps from when the driver queued them, which
   * would count the driver's own latency. Returns false for the keys the screen handles
   * itself (help, note).
   */
  key(command: TriageCommand, start: number, description: string): boolean {
    this.lastKeyAt = start;
    if (this.refreshTimer !== undefined) this.scheduleRefresh();
    if (this.sweepTimer !== undefined) this.scheduleSweep();
    markKey(
      `${description} ${command.kind} index=${this.selectedIndex} item=${this.current?.id ?? "none"} total=${this.rows.total}`,
    );
    switch (command.kind) {
      case "move":
        this.move(command.step, command.extend, start);
        return true;
      case "decide":
        this.decisions.decide(command.action, start);
        return true;
      case "reason": {
        const template = this.reasons[command.index];
        if (template) this.decisions.reasonCode = this.decisions.reasonCode === template.code ? null : template.code;
        return true;
      }
      case "undo":
        void this.decisions.undo();
        return true;
      case "toggle-select":
        this.toggleSelect();
        return true;
      case "open":
        if (this.selectedIndex >= 0) this.showIndex(this.selectedIndex);
        return true;
      case "escape":
        if (this.selection.size > 0) this.selection.clear();
        else if (this.decisions.reasonCode !== null || this.detailError !== null) {
          this.decisions.reasonCode = null;
          this.detailError = null;
        }
        return true;
      default:
        return false;
    }
  }

  // ---- when the lists are read again -------------------------------------------------

  scheduleSweep(): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = setTimeout(
      () => this.sweepDecided(),
      Math.max(16, this.lastKeyAt + SWEEP_QUIET_MS - performance.now()),
    );
  }

  /** Takes the rows decided here out of the list, keeping the item on screen selected. */
  sweepDecided(now = false): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    if (!now && performance.now() - this.lastKeyAt < SWEEP_QUIET_MS) return this.scheduleSweep();
    if (this.rows.sweep() > 0) this.followCurrent();
  }

  /** An engine event: a cached collection changed. */
  collectionChanged(collection: string): void {
    if (collection === "reason_templates") return void this.loadReasons();
    // The accounts, audit and jobs screens follow their own collections.
    if (collection !== "items" && collection !== "queues") return;
    this.changedCollections.add(collection);
    if (this.refreshTimer === undefined) this.refreshAskedAt = performance.now();
    this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    const now = performance.now();
    const marked = this.rows.open < this.rows.total;
    const quietIn = Math.max(0, this.lastKeyAt + (marked ? SWEEP_QUIET_MS : REFRESH_QUIET_MS) - now);
    const deadlineIn = marked ? Infinity : Math.max(0, this.refreshAskedAt + REFRESH_MAX_WAIT_MS - now);
    this.refreshTimer = setTimeout(() => this.flushRefresh(), Math.min(Math.max(quietIn, 16), deadlineIn));
  }

  private flushRefresh(): void {
    this.refreshTimer = undefined;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a copy, never drawn
    const collections = new Set(this.changedCollections);
    this.changedCollections.clear();
    if (collections.has("queues")) void this.loadQueues();
    if (collections.has("items")) {
      // Rows decided here and still marked: the refresh would take them out anyway.
      this.sweepDecided(true);
      // Keep prefetched details for instant display but mark them stale: showing one reads
      // it again in the background. Dropping them made every next item wait on the cache.
      for (const entry of this.detailCache.values()) entry.at = 0;
      void this.refreshRows();
      if (this.current) void this.loadDetail(this.current.id);
    }
  }
}
