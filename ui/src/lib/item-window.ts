import type { ItemPage, ItemSummary } from "./backend";

/** Rows fetched per request: small enough to answer in a few ms, large enough to scroll. */
export const BLOCK_SIZE = 200;

export type FetchPage = (offset: number, limit: number) => Promise<ItemPage>;

/**
 * The rows of one queue as the virtual list sees them: `total` slots, of which only the
 * blocks near the viewport are loaded. Reads are synchronous (a slot is an item or
 * undefined while its block loads), so drawing a row or picking the next item never waits.
 *
 * Local decisions remove their rows at once (`remove`), the way the engine's "open" list
 * will look once it is asked again; the engine is the truth, so `refresh` reloads the
 * blocks in view and replaces everything. Every local change bumps a generation, and a
 * response that started before it is dropped and asked again, so a page fetched before a
 * decision can never bring the decided item back.
 */
export class ItemWindow {
  total = 0;
  private rows: (ItemSummary | undefined)[] = [];
  private loading = new Set<number>();
  private generation = 0;
  private loadedOnce = false;

  constructor(
    private readonly fetchPage: FetchPage,
    private readonly onChange: () => void,
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
    this.onChange();
  }

  /** Removes decided items locally; returns how many loaded rows went away. */
  remove(itemIds: Iterable<number>): number {
    const ids = new Set(itemIds);
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
