import { BlockWindow, type FetchRows } from "./block-window";
import { isTypingTarget } from "./keyboard";

/**
 * The state and rules the list screens (accounts, the audit log, jobs) share: the rows
 * of the current query in a BlockWindow, the selected row followed by its id as the rows
 * change (a retried job leaves "failed", a refresh moves an event), a row chosen before
 * its block loaded opened once it arrives, j/k and the arrows, and the list's error.
 * `onOpen` is the screen's: show the row, load its detail.
 */
export class ListScreen<T extends { id: number }> {
  /** Bumped whenever the rows change: the signal the list redraws on. */
  version = $state(0);
  selectedIndex = $state(-1);
  selectedId = $state<number | null>(null);
  error = $state<string | null>(null);
  readonly rows: BlockWindow<T>;
  /** A row chosen before its block loaded (a far jump); opened once it arrives. */
  private pendingIndex = -1;
  private refreshQueued = false;

  constructor(
    fetchRows: FetchRows<T>,
    private readonly onOpen: (row: T) => void,
  ) {
    this.rows = new BlockWindow(fetchRows, () => {
      this.version++;
      this.rowsChanged();
    });
  }

  get total(): number {
    void this.version;
    return this.rows.total;
  }

  get ready(): boolean {
    void this.version;
    return this.rows.ready;
  }

  /** Selects the row at `index` and opens it, once its block has loaded. */
  show(index: number): void {
    if (index < 0 || index >= this.rows.total) return;
    this.selectedIndex = index;
    const row = this.rows.at(index);
    if (row) {
      this.pendingIndex = -1;
      this.open(row);
    } else {
      this.pendingIndex = index;
      this.rows.ensure(index, index);
    }
  }

  /** The next or previous row (j/k); with nothing selected, the first. */
  move(step: 1 | -1): void {
    this.show(step > 0 ? this.selectedIndex + 1 : Math.max(0, this.selectedIndex - 1));
  }

  /** Selects a row by id (a link from another screen), wherever it is in the loaded rows. */
  selectId(id: number): void {
    this.selectedId = id;
    this.selectedIndex = this.indexOf(id);
  }

  clearSelection(): void {
    this.selectedIndex = -1;
    this.selectedId = null;
    this.pendingIndex = -1;
  }

  /** Runs another query (a filter changed); the selection stays if the row is still listed. */
  async query(fetchRows: FetchRows<T>): Promise<void> {
    this.selectedIndex = -1;
    this.pendingIndex = -1;
    try {
      await this.rows.query(fetchRows);
      this.error = null;
      if (this.selectedId !== null) this.selectedIndex = this.indexOf(this.selectedId);
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  /** Reads the rows around the selection again. */
  refresh(): Promise<void> {
    return this.rows.refresh(Math.max(0, this.selectedIndex));
  }

  /**
   * A refresh on the next frame, however many times it is asked before then: a pull can
   * land many pages in a row. `then` runs after each refresh is asked (the screen's extras).
   */
  refreshSoon(then?: () => void): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    requestAnimationFrame(() => {
      this.refreshQueued = false;
      void this.refresh();
      then?.();
    });
  }

  /**
   * The list keys: `/` focuses the search field, j/k (not while typing) and the arrows
   * (also in the search field) move. True when the key was the list's.
   */
  keydown(event: KeyboardEvent, search: HTMLInputElement | null = null): boolean {
    if (event.ctrlKey || event.metaKey || event.altKey) return false;
    const typing = isTypingTarget(event.target);
    if (event.key === "/" && !typing && search) {
      event.preventDefault();
      search.focus();
      return true;
    }
    if (typing && (search === null || event.target !== search)) return false;
    if (event.key === "ArrowDown" || (!typing && event.key === "j")) {
      event.preventDefault();
      this.move(1);
      return true;
    }
    if (event.key === "ArrowUp" || (!typing && event.key === "k")) {
      event.preventDefault();
      this.move(-1);
      return true;
    }
    return false;
  }

  private indexOf(id: number): number {
    return this.rows.indexWhere((row) => row.id === id);
  }

  /** The screen sees the row before the selection moves, so it can tell a new row from the same. */
  private open(row: T): void {
    this.onOpen(row);
    this.selectedId = row.id;
  }

  /** Opens a row that waited for its block; otherwise follows the selection to its place. */
  private rowsChanged(): void {
    if (this.pendingIndex >= 0) {
      const row = this.rows.at(this.pendingIndex);
      if (row) {
        this.pendingIndex = -1;
        this.open(row);
      }
      return;
    }
    if (this.selectedId !== null) this.selectedIndex = this.indexOf(this.selectedId);
  }
}
