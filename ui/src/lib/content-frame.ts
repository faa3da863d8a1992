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
