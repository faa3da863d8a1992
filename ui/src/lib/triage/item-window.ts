import type { DecisionAction, ItemPage, ItemSummary } from "../backend";

/** Rows fetched per request: small enough to answer in a few ms, large enough to scroll. */
export const BLOCK_SIZE = 200;

export type FetchPage = (offset: number, limit: number) => Promise<ItemPage>;

/**
 * The rows of one queue as the virtual list sees them: `total` slots, of which only the
 * blocks near the viewport are loaded. Reads are synchronous (a slot is an item or
 * undefined while its block loads), so drawing a row or picking the next item never waits.
 *
 * A single decision marks its row (`markDecided`): the row stays where it is, shown as
 * decided, and j/k and the next-item jump pass over it (`step`), so the list does not
 * shift under a run of decisions (and the frame after each key repaints two rows, not
 * all of them). `sweep` takes the marked rows out once the moderator pauses. Bulk
 * decisions remove their rows at once (`remove`). Either way the list then looks the way
 * the engine's "open" list will look once it is asked again; the engine is the truth, so
 * `refresh` reloads the blocks in view and replaces everything (a marked row the engine
 * still lists keeps its mark until swept or unmarked). Every local change bumps a
 * generation, and a response that started before it is dropped, so a page fetched
 * before a decision can never bring the decided item back.
 */
export class ItemWindow {
  total = 0;
  private rows: (ItemSummary | undefined)[] = [];
  private loading = new Set<number>();
  private generation = 0;
  private loadedOnce = false;
  /**
   * @param decided rows decided here and not swept yet (item id -> action). Marking and
   *   unmarking change only this map, not the rows, and do not call `onChange`: pass a
   *   reactive map (SvelteMap) and only the marked row redraws.
   */
  constructor(
    private readonly fetchPage: FetchPage,
    private readonly onChange: () => void,
    private readonly decided: Map<number, DecisionAction> = new Map(),
  ) {}

  get ready(): boolean {
    return this.loadedOnce;
  }

  at(index: number): ItemSummary | undefined {
    return this.rows[index];
  }

  indexOf(itemId: number): number {
    return this.rows.findIndex((row) => row?.id === itemId);
  }

  /** The action a row was decided with here, while it waits to be swept. */
  decisionOf(itemId: number): DecisionAction | undefined {
    return this.decided.get(itemId);
  }

  /** Rows still open: the total less the rows marked decided. */
  get open(): number {
    return this.total - this.decided.size;
  }

  /**
   * The index `count` open rows away from `from` in `direction`, passing over rows
   * marked decided; -1 when there is none. A row not loaded yet counts as open (it is
   * shown once its block arrives).
   */
  step(from: number, direction: 1 | -1, count = 1): number {
    let index = from;
    for (let left = count; left > 0; ) {
      index += direction;
      if (index < 0 || index >= this.total) return -1;
      const row = this.rows[index];
      if (row === undefined || !this.decided.has(row.id)) left--;
    }
    return index;
  }

  /** Marks rows decided in place; they leave at the next `sweep`. */
  markDecided(itemIds: Iterable<number>, action: DecisionAction): void {
    for (const id of itemIds) this.decided.set(id, action);
    // A page fetched before the decision may still list the row as open.
    this.generation++;
    this.loading.clear();
  }

  /** Takes marks off (an undo, a decision the engine refused). */
  unmark(itemIds: Iterable<number>): void {
    for (const id of itemIds) this.decided.delete(id);
  }

  /** Removes the rows marked decided; returns how many loaded rows went away. */
  sweep(): number {
    if (this.decided.size === 0) return 0;
    const ids = [...this.decided.keys()];
    this.decided.clear();
    return this.remove(ids);
  }

  /** Loads every block that overlaps [start, end] and is not loaded or loading. */
  ensure(start: number, end: number): void {
    if (!this.loadedOnce) return;
    const first = Math.max(0, Math.floor(start / BLOCK_SIZE));
    const last = Math.min(Math.floor(Math.max(0, this.total - 1) / BLOCK_SIZE), Math.floor(Math.max(start, end) / BLOCK_SIZE));
    for (let block = first; block <= last; block++) {
      if (this.loading.has(block) || this.blockLoaded(block)) continue;
      void this.loadBlock(block, this.generation);
    }
  }

  /**
   * Reloads the blocks around `aroundIndices` (the viewport and the selection) and
   * replaces all rows in one step, so the list never shows a half-old, half-new mix.
   */
  async refresh(aroundIndices: number[] = [0]): Promise<void> {
    const generation = ++this.generation;
    this.loading.clear();
    const blocks = new Set<number>([0]);
    for (const index of aroundIndices) {
      const block = Math.floor(Math.max(0, index) / BLOCK_SIZE);
      blocks.add(block);
      // The neighbours too: the next item after a decision may sit in the next block.
      blocks.add(block + 1);
      if (block > 0) blocks.add(block - 1);
    }
    const pages = await Promise.all(
      [...blocks].sort((a, b) => a - b).map((block) => this.fetchPage(block * BLOCK_SIZE, BLOCK_SIZE)),
    );
    if (generation !== this.generation) return;
    const total = Math.max(0, ...pages.map((page) => page.total));
    const rows: (ItemSummary | undefined)[] = new Array(total).fill(undefined);
    for (const page of pages) {
      page.items.forEach((item, i) => {
        if (page.offset + i < total) rows[page.offset + i] = item;
      });
    }
    this.rows = rows;
    this.total = total;
    this.loadedOnce = true;
    // Marks stay on rows the engine still lists (their decision may not be written yet).
    if (this.decided.size > 0) {
      const listed = new Set(rows.map((row) => row?.id));
      for (const id of this.decided.keys()) if (!listed.has(id)) this.decided.delete(id);
    }
    this.onChange();
  }

  /** Removes decided items locally; returns how many loaded rows went away. */
  remove(itemIds: Iterable<number>): number {
    const ids = new Set(itemIds);
    for (const id of ids) this.decided.delete(id);
    const before = this.rows.length;
    this.rows = this.rows.filter((row) => row === undefined || !ids.has(row.id));
    const removed = before - this.rows.length;
    this.total = this.rows.length;
    // Offsets moved under any request in flight: ignore their answers.
    this.generation++;
    this.loading.clear();
    this.onChange();
    return removed;
  }

  /** Forgets everything (another queue, another profile). */
  reset(): void {
    this.generation++;
    this.loading.clear();
    this.rows = [];
    this.total = 0;
    this.loadedOnce = false;
    if (this.decided.size > 0) this.decided.clear();
    this.onChange();
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
      const page = await this.fetchPage(block * BLOCK_SIZE, BLOCK_SIZE);
      if (generation !== this.generation) return;
      if (page.total !== this.total) {
        // The queue changed under us (a sync landed): start over around this block.
        void this.refresh([block * BLOCK_SIZE]);
        return;
      }
      page.items.forEach((item, i) => {
        if (page.offset + i < this.total) this.rows[page.offset + i] = item;
      });
      this.onChange();
    } catch (error) {
      console.error(`loading rows ${block * BLOCK_SIZE}..${(block + 1) * BLOCK_SIZE} failed`, error);
    } finally {
      if (generation === this.generation) this.loading.delete(block);
    }
  }
}

/**
 * Where a list scrolls so the selected row (`index`) is in view, a page at a time: null
 * while it is inside the visible rows (`range`) with a row to spare; past the bottom it
 * goes `context` rows below the top, past the top `context` rows above the bottom, so the
 * next presses in the same direction move within the view instead of scrolling the whole
 * list one row per press.
 */
export function pageScrollOffset(
  index: number,
  range: { startIndex: number; endIndex: number } | null,
  viewHeight: number,
  rowHeight: number,
  context: number,
): number | null {
  if (range && index >= range.startIndex + 1 && index <= range.endIndex - 1) return null;
  const spare = Math.max(0, Math.min(context, Math.floor(viewHeight / rowHeight) - 3));
  const down = !range || index > range.endIndex - 1;
  const offset = down ? (index - spare) * rowHeight : (index + spare + 1) * rowHeight - viewHeight;
  return Math.max(0, offset);
}
