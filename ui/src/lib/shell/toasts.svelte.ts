import type { Toaster } from "../triage/decisions.svelte";

export type Toast = { id: number; kind: "undo" | "info" | "error"; text: string; until: number };

/** The messages in the corner: at most four, one undo toast at a time, each on a timer. */
export class Toasts implements Toaster {
  list = $state<Toast[]>([]);
  private seq = 0;

  toast(kind: Toast["kind"], text: string, ms = 4_000): void {
    const id = ++this.seq;
    this.list = [
      ...this.list.filter((t) => !(kind === "undo" && t.kind === "undo")),
      { id, kind, text, until: Date.now() + ms },
    ].slice(-4);
    setTimeout(() => (this.list = this.list.filter((t) => t.id !== id)), ms);
  }

  dismissUndo(): void {
    this.list = this.list.filter((t) => t.kind !== "undo");
  }
}
