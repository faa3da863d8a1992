/** Rows fetched per request: a few ms from SQLite, enough to scroll a screen or two. */
export const BLOCK_SIZE = 200;

/**
 * One page of rows. `open` says `total` is only a lower bound (the audit log stops
 * counting at a cap): the window then grows a block at a time as pages come back full,
 * so the list scrolls past the cap instead of ending there.
 */
export type RowPage<T> = { total: number; offset: number; rows: T[]; open?: boolean };
export type FetchRows<T> = (offset: number, limit: number) => Promise<RowPage<T>>;

/** What a windowed list reads: `total` slots, each a row or undefined while it loads. */
export interface RowSource<T> {
  readonly total: number;
  readonly ready: boolean;
  at(index: number): T | undefined;
  ensure(start: number, end: number): void;
}

/**
 * The rows of a long list as a virtual list sees them: `total` slots of which only the
 * blocks near the viewport are loaded. Reads are synchronous (a slot is a row, or
 * undefined while its block loads), so drawing a row or picking the next one never waits.
 * `refresh` reloads the blocks around what is shown and replaces everything in one step,
 * so a list never shows a half-old, half-new mix. Every local change bumps a generation,
 * and an answer that started before it is dropped: typing fast never shows the rows of
 * an older filter, and a page fetched before a local removal never brings the row back.
 */
export class BlockWindow<T> implements RowSource<T> {
  total = 0;
  protected rows: (T | undefined)[] = [];
  protected loading = new Set<number>();
  protected generation = 0;
  private loadedOnce = false;

  constructor(
    private fetchRows: FetchRows<T>,
    protected readonly onChange: () => void,
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

  /** Puts a newer copy of a loaded row in its place (a detail read again). */
  replace(match: (row: T) => boolean, row: T): void {
    const index = this.indexWhere(match);
    if (index === -1) return;
    this.rows[index] = row;
    this.onChange();
  }

  /** Points the window at another query (a filter change) and loads its first blocks. */
  async query(fetchRows: FetchRows<T>, around = 0): Promise<void> {
    this.fetchRows = fetchRows;
    await this.refresh(around);
  }

  /** Loads every block that overlaps [start, end] and is not loaded or loading. */
  ensure(start: number, end: number): void {
    if (!this.loadedOnce || this.total === 0) return;
    const first = Math.max(0, Math.floor(start / BLOCK_SIZE));
    const last = Math.min(Math.floor((this.total - 1) / BLOCK_SIZE), Math.floor(Math.max(start, end) / BLOCK_SIZE));
    for (let block = first; block <= last; block++) {
      if (this.loading.has(block) || this.blockLoaded(block)) continue;
      void this.loadBlock(block, this.generation);
    }
  }

  /**
   * Reloads the first block and the blocks around each of `around` (the viewport, the
   * selection) with their neighbours, since the next row after a change may sit in the
   * next block, and replaces all rows at once.
   */
  async refresh(around: number | number[] = 0): Promise<void> {
    const generation = ++this.generation;
    this.loading.clear();
    const blocks = new Set<number>([0]);
    for (const index of typeof around === "number" ? [around] : around) {
      const block = Math.floor(Math.max(0, index) / BLOCK_SIZE);
      blocks.add(block);
      blocks.add(block + 1);
      if (block > 0) blocks.add(block - 1);
    }
    // The first block says how many rows there are, so no block past the end is asked for.
    const first = await this.fetchRows(0, BLOCK_SIZE);
    if (generation !== this.generation) return;
    let total = BlockWindow.totalOf(first);
    const rest = await Promise.all(
      [...blocks]
        .filter((block) => block > 0 && block * BLOCK_SIZE < total)
        .sort((a, b) => a - b)
        .map((block) => this.fetchRows(block * BLOCK_SIZE, BLOCK_SIZE)),
    );
    if (generation !== this.generation) return;
    const pages = [first, ...rest];
    for (const page of rest) total = Math.max(total, BlockWindow.totalOf(page));
    const rows: (T | undefined)[] = new Array(total).fill(undefined);
    for (const page of pages) {
      page.rows.forEach((row, i) => {
        if (page.offset + i < total) rows[page.offset + i] = row;
      });
    }
    this.rows = rows;
    this.total = total;
    this.loadedOnce = true;
    this.refreshed();
    this.onChange();
  }

  /** Forgets everything (another queue, another profile). */
  reset(): void {
    this.generation++;
    this.loading.clear();
    this.rows = [];
    this.total = 0;
    this.loadedOnce = false;
    this.onChange();
  }

  /** Called after a refresh replaced the rows, before `onChange`. */
  protected refreshed(): void {}

  /** The rows a page says exist: its total, or for an open page, one block past a full page. */
  private static totalOf<R>(page: RowPage<R>): number {
    if (!page.open) return page.total;
    const reached = page.offset + page.rows.length;
    return Math.max(page.total, page.rows.length === BLOCK_SIZE ? reached + BLOCK_SIZE : reached);
  }

  private blockLoaded(block: number): boolean {
    const start = block * BLOCK_SIZE;
    const end = Math.min(this.total, start + BLOCK_SIZE);
    for (let i = start; i < end; i++) if (this.rows[i] === undefined) return false;
    return true;
  }

  private async loadBlock(block: number, generation: number): Promise<void> {
    this.loading.add(block);
    try {
      const page = await this.fetchRows(block * BLOCK_SIZE, BLOCK_SIZE);
      if (generation !== this.generation) return;
      if (page.open) {
        // A lower bound: grow when a full page reaches the end; a short page is the end.
        const short = page.rows.length < BLOCK_SIZE;
        const next = short
          ? Math.max(page.total, page.offset + page.rows.length)
          : Math.max(this.total, BlockWindow.totalOf(page));
        if (next !== this.total) {
          if (next > this.rows.length)
            this.rows.push(...new Array<T | undefined>(next - this.rows.length).fill(undefined));
          else this.rows.length = next;
          this.total = next;
        }
      } else if (page.total !== this.total) {
        // The list changed under us (a sync landed): start over around this block.
        void this.refresh(block * BLOCK_SIZE);
        return;
      }
      page.rows.forEach((row, i) => {
        if (page.offset + i < this.total) this.rows[page.offset + i] = row;
      });
      this.onChange();
    } catch (error) {
      console.error(`loading rows ${block * BLOCK_SIZE}..${(block + 1) * BLOCK_SIZE} failed`, error);
    } finally {
      if (generation === this.generation) this.loading.delete(block);
    }
  }
}
