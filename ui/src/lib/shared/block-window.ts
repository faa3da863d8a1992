/** Rows fetched per request: a few ms from SQLite, enough to scroll a screen or two. */
export const ROW_BLOCK_SIZE = 200;

/**
 * One page of rows. `open` says `total` is only a lower bound (the audit log stops
 * counting at a cap): the window then grows a block at a time as pages come back full,
 * so the list scrolls past the cap instead of ending there.
 */
export type RowPage<T> = { total: number; offset: number; rows: T[]; open?: boolean };
export type FetchRows<T> = (offset: number, limit: number) => Promise<RowPage<T>>;

/**
 * The rows of a long list (the audit log, jobs) as a virtual list sees them: `total`
 * slots of which only the blocks near the viewport are loaded, read synchronously. The
 * same idea as the triage ItemWindow, without its local removals: these lists only change
 * when the engine says so, and then `refresh` replaces everything at once. A generation
 * counter drops answers that started before a filter change, so typing fast never shows
 * the rows of an older filter.
 */
export class RowWindow<T> {
  total = 0;
  private rows: (T | undefined)[] = [];
  private loading = new Set<number>();
  private generation = 0;
  private loadedOnce = false;

  constructor(
    private fetchRows: FetchRows<T>,
    private readonly onChange: () => void,
  ) {}

  get ready(): boolean {
    return this.loadedOnce;
  }

  at(index: number): T | undefined {
    return this.rows[index];
  }

  /** The index of the first loaded row that matches, or -1 (rows not loaded are not searched). */
  indexWhere(match: (row: T) => boolean): number {
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i];
      if (row !== undefined && match(row)) return i;
    }
    return -1;
  }

  /** Points the window at another query (a filter change) and loads its first blocks. */
  async query(fetchRows: FetchRows<T>, around = 0): Promise<void> {
    this.fetchRows = fetchRows;
    await this.refresh(around);
  }

  /** Loads every block that overlaps [start, end] and is not loaded or loading. */
  ensure(start: number, end: number): void {
    if (!this.loadedOnce || this.total === 0) return;
    const first = Math.max(0, Math.floor(start / ROW_BLOCK_SIZE));
    const last = Math.min(Math.floor((this.total - 1) / ROW_BLOCK_SIZE), Math.floor(Math.max(start, end) / ROW_BLOCK_SIZE));
    for (let block = first; block <= last; block++) {
      if (this.loading.has(block) || this.blockLoaded(block)) continue;
      void this.loadBlock(block, this.generation);
    }
  }

  /** Reloads the block around `around` (and its neighbours) and replaces all rows in one step. */
  async refresh(around = 0): Promise<void> {
    const generation = ++this.generation;
    this.loading.clear();
    const centre = Math.floor(Math.max(0, around) / ROW_BLOCK_SIZE);
    const blocks = [...new Set([0, Math.max(0, centre - 1), centre, centre + 1])].sort((a, b) => a - b);
    const first = await this.fetchRows(0, ROW_BLOCK_SIZE);
    if (generation !== this.generation) return;
    let total = RowWindow.totalOf(first);
    const rest = await Promise.all(
      blocks.filter((block) => block > 0 && block * ROW_BLOCK_SIZE < total).map((block) => this.fetchRows(block * ROW_BLOCK_SIZE, ROW_BLOCK_SIZE)),
    );
    if (generation !== this.generation) return;
    for (const page of rest) total = Math.max(total, RowWindow.totalOf(page));
    const rows: (T | undefined)[] = new Array(total).fill(undefined);
    for (const page of [first, ...rest]) {
      page.rows.forEach((row, i) => {
        if (page.offset + i < total) rows[page.offset + i] = row;
      });
    }
    this.rows = rows;
    this.total = total;
    this.loadedOnce = true;
    this.onChange();
  }

  /** The rows a page says exist: its total, or for an open page, one block past a full page. */
  private static totalOf<R>(page: RowPage<R>): number {
    if (!page.open) return page.total;
    const reached = page.offset + page.rows.length;
    return Math.max(page.total, page.rows.length === ROW_BLOCK_SIZE ? reached + ROW_BLOCK_SIZE : reached);
  }

  private blockLoaded(block: number): boolean {
    const start = block * ROW_BLOCK_SIZE;
    const end = Math.min(this.total, start + ROW_BLOCK_SIZE);
    for (let i = start; i < end; i++) if (this.rows[i] === undefined) return false;
    return true;
  }

  private async loadBlock(block: number, generation: number): Promise<void> {
    this.loading.add(block);
    try {
      const page = await this.fetchRows(block * ROW_BLOCK_SIZE, ROW_BLOCK_SIZE);
      if (generation !== this.generation) return;
      if (page.open) {
        // A lower bound: grow when a full page reaches the end; a short page is the end.
        const short = page.rows.length < ROW_BLOCK_SIZE;
        const next = short ? Math.max(page.total, page.offset + page.rows.length) : Math.max(this.total, RowWindow.totalOf(page));
        if (next !== this.total) {
          if (next > this.rows.length) this.rows.push(...new Array<T | undefined>(next - this.rows.length).fill(undefined));
          else this.rows.length = next;
          this.total = next;
        }
      } else if (page.total !== this.total) {
        // The list changed under us (a sync landed): start over around this block.
        void this.refresh(block * ROW_BLOCK_SIZE);
        return;
      }
      page.rows.forEach((row, i) => {
        if (page.offset + i < this.total) this.rows[page.offset + i] = row;
      });
      this.onChange();
    } catch (error) {
      console.error(`loading rows ${block * ROW_BLOCK_SIZE}..${(block + 1) * ROW_BLOCK_SIZE} failed`, error);
    } finally {
      if (generation === this.generation) this.loading.delete(block);
    }
  }
}
