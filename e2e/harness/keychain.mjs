// Every item of the session's Secret Service (gnome-keyring under
// scripts/with-desktop-session.sh), with its attributes and secret: secret-tool alone can
// only search by attributes it is told, and a leak could be under any service.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
const DEST = ["--session", "--dest", "org.freedesktop.secrets"];

async function call(objectPath, method, ...args) {
  const { stdout } = await run("gdbus", ["call", ...DEST, "--object-path", objectPath, "--method", method, ...args]);
  return stdout.trim();
}

/**
 * Lists every item's attributes over D-Bus (SearchItems with no attributes matches all),
 * then reads each one's secret with secret-tool and that exact set of attributes: a
 * Secret Service session belongs to the D-Bus connection that opened it, so a gdbus
 * call per step cannot hold one.
 * @returns {Promise<{path: string, attributes: object, secret: Buffer}[]>}
 */
export async function dumpKeychain() {
  const found = await call("/org/freedesktop/secrets", "org.freedesktop.Secret.Service.SearchItems", "@a{ss} {}");
  const paths = [...found.matchAll(/'(\/org\/freedesktop\/secrets\/[^']+)'/g)].map((m) => m[1]);
  const items = [];
  for (const itemPath of paths) {
    const text = await call(itemPath, "org.freedesktop.DBus.Properties.Get", "org.freedesktop.Secret.Item", "Attributes");
    const attributes = Object.fromEntries([...text.matchAll(/'((?:[^'\\]|\\.)*)': '((?:[^'\\]|\\.)*)'/g)].map((m) => [m[1], m[2]]));
    const { stdout } = await run("secret-tool", ["lookup", ...Object.entries(attributes).flat()], { encoding: "buffer" });
    items.push({ path: itemPath, attributes, secret: stdout });
  }
  return items;
}
