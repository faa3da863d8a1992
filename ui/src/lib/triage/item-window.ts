import type { DecisionAction, ItemPage, ItemSummary } from "../backend";
import { BlockWindow } from "../shared/block-window";

export { BLOCK_SIZE } from "../shared/block-window";

export type FetchPage = (offset: number, limit: number) => Promise<ItemPage>;

/**
 * The rows of one queue as the triage list sees them: a BlockWindow of items, with the
 * local changes a run of decisions makes before the engine is asked again.
 *
 * A single decision marks its row (`markDecided`): the row stays where it is, shown as
 * decided, and j/k and the next-item jump pass over it (`step`), so the list does not
 * shift under a run of decisions (and the frame after each key repaints two rows, not
 * all of them). `sweep` takes the marked rows out once the moderator pauses. Bulk
 * decisions remove their rows at once (`remove`). Either way the list then looks the way
 * the engine's "open" list will look once it is asked again; the engine is the truth, so
 * `refresh` replaces everything (a marked row the engine still lists keeps its mark until
 * swept or unmarked).
 */
export class ItemWindow extends BlockWindow<ItemSummary> {
  /**
   * @param decided rows decided here and not swept yet (item id -> action). Marking and
   *   unmarking change only this map, not the rows, and do not call `onChange`: pass a
   *   reactive map (SvelteMap) and only the marked row redraws.
   */
  constructor(
    fetchPage: FetchPage,
    onChange: () => void,
    private readonly decided: Map<number, DecisionAction> = new Map(),
  ) {
    super(async (offset, limit) => {
      const page = await fetchPage(offset, limit);
      return { total: page.total, offset: page.offset, rows: page.items };
    }, onChange);
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
    for (let left = count; left > 0;) {
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

  override reset(): void {
    if (this.decided.size > 0) this.decided.clear();
    super.reset();
  }

  /** Marks stay on rows the engine still lists (their decision may not be written yet). */
  protected override refreshed(): void {
    if (this.decided.size === 0) return;
    const listed = new Set(this.rows.map((row) => row?.id));
    for (const id of this.decided.keys()) if (!listed.has(id)) this.decided.delete(id);
  }
}
