// Real input through the X server (xdotool under Xvfb), for what WebDriver's synthetic
// events cannot show: where keyboard focus really is. A WebDriver key event goes to the
// page even when a user's focus would be inside a sandboxed frame; an X key event goes
// where the focus is. Clicks are real pointer moves and button presses at screen
// coordinates, computed from the element's place in the page and the window's on screen.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

async function xdotool(...args) {
  const { stdout } = await run("xdotool", args);
  return stdout.trim();
}

/** The app window's top-left corner on the screen (no window manager: no decorations). */
async function windowOrigin(title = "Steward") {
  const id = (await xdotool("search", "--onlyvisible", "--name", `^${title}$`)).split("\n")[0];
  if (!id) throw new Error(`no visible window named ${title}`);
  const geometry = await xdotool("getwindowgeometry", "--shell", id);
  const value = (name) => Number(new RegExp(`^${name}=(\\d+)`, "m").exec(geometry)?.[1] ?? NaN);
  return { id, x: value("X"), y: value("Y") };
}

export class RealInput {
  /** @param {import("webdriverio").Browser} browser the app's WebDriver session, for element positions */
  constructor(browser) {
    this.browser = browser;
  }

  /** Screen coordinates of a point inside the element (fractions of its box, from its top-left). */
  async pointIn(selector, fx = 0.5, fy = 0.5) {
    const box = await this.browser.execute((s) => {
      const rect = document.querySelector(s)?.getBoundingClientRect();
      return rect ? { x: rect.left, y: rect.top, width: rect.width, height: rect.height } : null;
    }, selector);
    if (!box) throw new Error(`nothing matches ${selector}`);
    const origin = await windowOrigin();
    return { x: Math.round(origin.x + box.x + box.width * fx), y: Math.round(origin.y + box.y + box.height * fy) };
  }

  /** A real left click inside the element. */
  async click(selector, fx = 0.5, fy = 0.5) {
    const { x, y } = await this.pointIn(selector, fx, fy);
    await xdotool("mousemove", "--sync", String(x), String(y));
    await xdotool("click", "1");
  }

  /** A real drag with the left button, from one point of the element to another. */
  async drag(selector, from, to) {
    const start = await this.pointIn(selector, from[0], from[1]);
    const end = await this.pointIn(selector, to[0], to[1]);
    await xdotool("mousemove", "--sync", String(start.x), String(start.y));
    await xdotool("mousedown", "1");
    for (let step = 1; step <= 8; step++) {
      const x = Math.round(start.x + ((end.x - start.x) * step) / 8);
      const y = Math.round(start.y + ((end.y - start.y) * step) / 8);
      await xdotool("mousemove", "--sync", String(x), String(y));
    }
    await xdotool("mouseup", "1");
  }

  /**
   * Real key presses (xdotool key names: "j", "ctrl+c", "Return"). The app's window gets
   * the X input focus first (there is no window manager to give it); inside the window,
   * the keys go wherever the page's focus is, as a user's would.
   */
  async keys(...names) {
    const { id } = await windowOrigin();
    await xdotool("windowfocus", "--sync", id);
    for (const name of names) await xdotool("key", "--delay", "40", name);
  }

  /** Types text as real key presses. */
  async type(text) {
    const { id } = await windowOrigin();
    await xdotool("windowfocus", "--sync", id);
    await xdotool("type", "--delay", "20", text);
  }
}


/** What the X clipboard holds as text (what Ctrl+C put there), or "" when it is empty. */
export async function clipboardText() {
  try {
    return (await run("xclip", ["-o", "-selection", "clipboard"])).stdout;
  } catch {
    return "";
  }
}

/** Empties the X clipboard, so a later read shows what a copy put there. */
export async function clearClipboard() {
  const child = execFile("xclip", ["-i", "-selection", "clipboard"]);
  child.stdin.end("");
  await new Promise((resolve) => child.on("exit", resolve));
}
