/** A question a screen asks before it does something that cannot be taken back. */
export type Confirmation = {
  title: string;
  message: string;
  confirmLabel: string;
  danger: boolean;
  run: () => void;
};

/**
 * The confirmation a screen is asking, if any; `<Confirm>` shows it. A screen's keys
 * stay quiet while `open` (the dialog owns Enter and Esc).
 */
export class Confirmations {
  current = $state<Confirmation | null>(null);

  get open(): boolean {
    return this.current !== null;
  }

  ask(confirmation: Confirmation): void {
    this.current = confirmation;
  }

  /** Closes the dialog, then runs what was confirmed. */
  accept(): void {
    const run = this.current?.run;
    this.current = null;
    run?.();
  }

  cancel(): void {
    this.current = null;
  }
}
