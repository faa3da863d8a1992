import type { DecisionAction } from "../backend";
import type { PaletteCommand } from "../shell/CommandPalette.svelte";
import { DECISION_LABELS, SORTS, idsBetween } from "./rules";
import type { Triage } from "./triage.svelte";

/** The palette's triage commands: decisions, selection, queues and orders. */
export function triageCommands(triage: Triage, openNote: () => void): PaletteCommand[] {
  const list: PaletteCommand[] = [];
  const target = triage.selection.size > 0 ? `${triage.selection.size} selected` : "this item";
  for (const action of ["approve", "remove", "escalate", "ignore"] as DecisionAction[]) {
    list.push({
      id: `decide-${action}`,
      group: "Decide",
      label: `${DECISION_LABELS[action]} ${target}`,
      hint: action.charAt(0),
      run: () => triage.decisions.decide(action),
    });
  }
  const current = triage.current;
  list.push(
    {
      id: "undo",
      group: "Decide",
      label: "Undo the last decision",
      hint: "u",
      run: () => void triage.decisions.undo(),
    },
    { id: "note", group: "Decide", label: "Write a note for the next decision", hint: "n", run: openNote },
    {
      id: "select",
      group: "Select",
      label: "Select or unselect this item",
      hint: "x",
      run: () => triage.toggleSelect(),
    },
    {
      id: "select-loaded",
      group: "Select",
      label: "Select the next 50 items",
      keywords: "bulk flood many",
      run: () => {
        const from = Math.max(0, triage.selectedIndex);
        for (const id of idsBetween((i) => triage.openRow(i), from, from + 49)) triage.selection.add(id);
      },
    },
    {
      id: "select-author",
      group: "Select",
      label: current
        ? `Select every loaded item by @${current.author_username}`
        : "Select every loaded item by this author",
      keywords: "bulk flood same author",
      run: () => {
        if (!current) return;
        for (let i = 0; i < triage.rows.total; i++) {
          const row = triage.openRow(i);
          if (row?.author_username === current.author_username) triage.selection.add(row.id);
        }
      },
    },
    {
      id: "clear-selection",
      group: "Select",
      label: "Clear the selection",
      hint: "Esc",
      run: () => triage.selection.clear(),
    },
  );
  for (const queue of triage.queues) {
    list.push({
      id: `queue-${queue.id}`,
      group: "Queue",
      label: `Go to ${queue.name}`,
      keywords: `${queue.open_count} open`,
      run: () => void triage.selectQueue(queue.id),
    });
  }
  for (const option of SORTS) {
    list.push({
      id: `sort-${option.sort}`,
      group: "Sort",
      label: `Sort: ${option.label}`,
      run: () => void triage.setSort(option.sort),
    });
  }
  return list;
}
