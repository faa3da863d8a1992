import type { DecisionAction } from "../backend";
import { messageOf } from "../shared/format";
import { nextPaint } from "../shared/schedule";
import { undoToastMs } from "../shell/unsent";
import { DECISION_LABELS, DECISION_PAST, reasonFits } from "./rules";
import type { Triage } from "./triage.svelte";

/** The engine's default undo window, for the words of confirmations; the undo toast
 * itself ends when the engine says the decision goes out (`undo_until`). */
const UNDO_WINDOW_MS = 5_000;

/** Where triage's messages go: the shell's toasts. */
export interface Toaster {
  toast(kind: "undo" | "info" | "error", text: string, ms?: number): void;
  /** Takes the undo toast away (its decision was undone). */
  dismissUndo(): void;
}

function capitalize(text: string) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Deciding on the item on screen or on the selection, and undoing: the reason and note
 * the next decision carries, the rules that refuse one (a reason that does not fit,
 * someone else's claim, a removal on production without a yes), and the order in which
 * decisions reach the engine.
 */
export class Decisions {
  reasonCode = $state<string | null>(null);
  note = $state("");
  noteOpen = $state(false);
  /** Decisions handed to the engine one after another, in the order they were made. */
  localWrites: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly triage: Triage,
    private readonly toaster: Toaster,
  ) {}

  decide(action: DecisionAction, start?: number): void {
    const triage = this.triage;
    if (triage.selection.size > 0) return this.askBulk(action);
    const current = triage.current;
    if (!current) return;
    if (triage.claimedByOther(Date.now()) && triage.detail?.claim) {
      triage.detailError = `@${triage.detail.claim.username} is reviewing this item; press j to move on.`;
      return;
    }
    const reason = triage.reasons.find((r) => r.code === this.reasonCode) ?? null;
    if (reason && !reasonFits(reason, action)) {
      triage.detailError = `“${reason.label}” is not a reason to ${action}. Pick another reason (1–9) or clear it (Esc).`;
      return;
    }
    if (triage.production() && action === "remove") {
      triage.confirmations.ask({
        title: "Remove this item on production?",
        message: `“${current.title}” will be removed for everyone once the undo window (${UNDO_WINDOW_MS / 1000} s) has passed.`,
        confirmLabel: "Remove",
        danger: true,
        run: () => void this.commit(action),
      });
      return;
    }
    void this.commit(action, start);
  }

  private async commit(action: DecisionAction, start?: number): Promise<void> {
    const triage = this.triage;
    const rows = triage.rows;
    const decided = triage.current;
    if (!decided) return;
    const index = triage.selectedIndex >= 0 ? triage.selectedIndex : rows.indexOf(decided.id);
    const chosenReason = this.reasonCode;
    const chosenNote = this.note.trim() || null;
    this.reasonCode = null;
    this.note = "";
    this.noteOpen = false;
    triage.detailError = null;
    triage.forget(decided.id);

    // Move on at once, from memory; the engine records the decision in its outbox. The
    // decided row stays in place, marked, until the moderator pauses (sweepDecided), so
    // a run of decisions does not shift the list under every key.
    rows.markDecided([decided.id], action);
    let next = -1;
    if (index >= 0) {
      next = rows.step(index, 1);
      if (next === -1) next = rows.step(index, -1);
    }
    if (next !== -1) triage.showIndex(next, start);
    else triage.clearItem();
    triage.scheduleSweep();

    // The engine records it once the next item has been painted: its answer and the
    // events it raises would otherwise land in the middle of that frame. Writes stay in
    // order, and undo waits for them (`localWrites`).
    const written = this.localWrites
      .then(nextPaint)
      .then(() => triage.backend.decideItem(decided.id, action, chosenReason, chosenNote));
    this.localWrites = written.catch(() => undefined);
    try {
      const queued = await written;
      this.toaster.toast(
        "undo",
        `${capitalize(DECISION_PAST[action])} “${decided.title}”`,
        undoToastMs(queued.undo_until, Date.now()),
      );
    } catch (error) {
      // Nothing was queued: bring the item back with the reason, and what was written
      // for it (a note the engine found too long is not lost).
      rows.unmark([decided.id]);
      await triage.refreshRows();
      const back = rows.indexOf(decided.id);
      if (back !== -1) triage.showIndex(back);
      if (chosenNote && triage.current?.id === decided.id) {
        this.note = chosenNote;
        this.reasonCode = chosenReason;
      }
      triage.detailError = `Could not ${action} “${decided.title}”: ${messageOf(error)}`;
    }
  }

  private askBulk(action: DecisionAction): void {
    const triage = this.triage;
    const ids = [...triage.selection];
    const count = ids.length;
    const reason = triage.reasons.find((r) => r.code === this.reasonCode) ?? null;
    if (reason && !reasonFits(reason, action)) {
      triage.detailError = `“${reason.label}” is not a reason to ${action}.`;
      return;
    }
    const noun = `${count} item${count === 1 ? "" : "s"}`;
    triage.confirmations.ask({
      title: `${DECISION_LABELS[action]} ${noun}?`,
      message:
        `${DECISION_LABELS[action]} ${noun}` +
        (reason ? ` as “${reason.label}”` : " with no reason") +
        (this.note.trim() ? `, with your note` : "") +
        `. You can undo with u for ${UNDO_WINDOW_MS / 1000} s.`,
      confirmLabel: `${DECISION_LABELS[action]} ${noun}`,
      danger: action === "remove" || triage.production(),
      run: () => void this.commitBulk(action, ids),
    });
  }

  private async commitBulk(action: DecisionAction, ids: number[]): Promise<void> {
    const triage = this.triage;
    const chosenReason = this.reasonCode;
    const chosenNote = this.note.trim() || null;
    try {
      const outcome = await triage.backend.decideItems(ids, action, chosenReason, chosenNote);
      this.reasonCode = null;
      this.note = "";
      this.noteOpen = false;
      triage.selection.clear();
      const queued = outcome.queued.map((item) => item.id);
      for (const id of queued) triage.forget(id);
      const showingDecided = triage.current !== null && queued.includes(triage.current.id);
      const index = triage.selectedIndex;
      triage.rows.remove(queued);
      if (showingDecided) {
        if (triage.rows.total > 0) triage.showIndex(Math.min(Math.max(0, index - 1), triage.rows.total - 1));
        else triage.clearItem();
      } else triage.followCurrent();
      const skipped = outcome.skipped.length;
      this.toaster.toast(
        "undo",
        `${capitalize(DECISION_PAST[action])} ${queued.length} item${queued.length === 1 ? "" : "s"}` +
          (skipped ? ` · ${skipped} skipped (${outcome.skipped[0].reason})` : ""),
        undoToastMs(outcome.undo_until, Date.now()),
      );
    } catch (error) {
      triage.detailError = `Could not ${action} ${ids.length} items: ${messageOf(error)}`;
    }
  }

  async undo(): Promise<void> {
    const triage = this.triage;
    try {
      // A decision still on its way to the engine is the one to undo, not the one before.
      await this.localWrites;
      const outcome = await triage.backend.undoLast();
      this.toaster.dismissUndo();
      const count = outcome.item_ids.length;
      this.toaster.toast("info", `Undone: ${count} decision${count === 1 ? "" : "s"} withdrawn`);
      for (const id of outcome.item_ids) triage.detailCache.delete(id);
      triage.rows.unmark(outcome.item_ids);
      await triage.refreshRows();
      const first = outcome.item_ids[0];
      const index = first === undefined ? -1 : triage.rows.indexOf(first);
      if (index !== -1) triage.showIndex(index);
      else if (first !== undefined) {
        const loaded = await triage.backend.getItem(first);
        triage.detailCache.set(first, { detail: loaded, at: Date.now() });
        triage.selectedIndex = -1;
        triage.showItem(loaded.summary);
      }
    } catch (error) {
      this.toaster.toast("error", messageOf(error));
    }
  }
}
