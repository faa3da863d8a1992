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
