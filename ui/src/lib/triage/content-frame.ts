/**
 * The document a sandboxed iframe renders for untrusted content. The engine already
 * sanitized `safe_html` (ammonia); this is the second wall: the CSP meta comes first, so
 * it is in force before any content is parsed, and it allows no script, no network, no
 * fonts, only inline styles and data: images. The iframe itself gets `sandbox=""` (no
 * allow-scripts, no allow-same-origin), so even a sanitizer bug cannot reach Tauri's IPC.
 */
export const CONTENT_FRAME_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** The iframe's sandbox attribute: empty means every restriction applies. */
export const CONTENT_FRAME_SANDBOX = "";

export type FrameTheme = "light" | "dark";

const CONTENT_STYLES = `
:root { color-scheme: light; }
html, body { margin: 0; padding: 0; }
body {
  font: 14px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1b1f24; background: #ffffff; padding: 14px 16px; overflow-wrap: anywhere;
}
a { color: #0969da; }
img { max-width: 100%; height: auto; }
img:not([src]) {
  display: inline-block; padding: 2px 8px; font-size: 12px; opacity: .75;
  border: 1px dashed rgba(127,127,127,.6); border-radius: 4px;
}
pre, code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { white-space: pre-wrap; background: rgba(127,127,127,.12); padding: 8px 10px; border-radius: 6px; }
blockquote { margin: 0 0 0 2px; padding-left: 12px; border-left: 3px solid rgba(127,127,127,.4); color: inherit; opacity: .85; }
table { border-collapse: collapse; } td, th { border: 1px solid rgba(127,127,127,.35); padding: 3px 6px; }
`;

// The app's theme can differ from the OS's, so the frame gets it explicitly rather than
// through prefers-color-scheme.
const DARK_STYLES = `
:root { color-scheme: dark; }
body { color: #e4e7eb; background: #0f1115; }
a { color: #58a6ff; }
`;

export function buildContentSrcdoc(safeHtml: string, theme: FrameTheme = "light"): string {
  return (
    `<!doctype html><meta http-equiv="Content-Security-Policy" content="${CONTENT_FRAME_CSP}">` +
    `<meta charset="utf-8"><meta name="color-scheme" content="${theme}"><meta name="referrer" content="no-referrer">` +
    `<style>${CONTENT_STYLES}${theme === "dark" ? DARK_STYLES : ""}</style>` +
    `<body>${safeHtml}</body>`
  );
}

/**
 * Sandboxed frames kept loaded at once: the item on screen and the neighbours j, k or a
 * decision will show next. Swapping one frame's document costs a load and often a second
 * frame; showing a frame that already holds the next item costs one paint.
 */
export const CONTENT_FRAME_SLOTS = 4;

/** What one frame holds: an item's content (as its document's HTML), or nothing yet. */
export type FrameSlot = { id: number | null; html: string };
export type WantedFrame = { id: number; html: string };

/**
 * Assigns items to frames with as few document swaps as possible. `wanted` is in priority
 * order (the item on screen first). A frame that holds a wanted item keeps it (its HTML is
 * updated if it changed, say after "show images"); then, of the first `placeFirst` wanted
 * items, those no frame holds are placed, each in an empty frame or one holding an item
 * no longer wanted. With `placeFirst` 1 only the item on screen can cost a document swap:
 * when a frame already holds it, no frame changes. Frames are never reordered: moving an
 * iframe in the DOM reloads it.
 */
export function assignSlots(
  slots: readonly FrameSlot[],
  wanted: readonly WantedFrame[],
  placeFirst = Infinity,
): FrameSlot[] {
  const next = slots.map((slot) => ({ ...slot }));
  const unique = wanted.filter((w, i) => wanted.findIndex((other) => other.id === w.id) === i);
  const wantedIds = new Set(unique.map((w) => w.id));
  const placed = new Set<number>();
  for (const slot of next) {
    const want = slot.id === null ? undefined : unique.find((w) => w.id === slot.id);
    if (!want || placed.has(want.id)) continue;
    slot.html = want.html;
    placed.add(want.id);
  }
  for (const want of unique.slice(0, placeFirst)) {
    if (placed.has(want.id)) continue;
    let free = next.findIndex((slot) => slot.id === null);
    if (free === -1) free = next.findIndex((slot) => slot.id !== null && !wantedIds.has(slot.id));
    if (free === -1) break;
    next[free] = { id: want.id, html: want.html };
    placed.add(want.id);
  }
  return next;
}
