// The app's processes as the kernel sees them, for the memory and start-up scenario:
// the process running a binary, its descendants (WebKit's web and network processes),
// their proportional memory (PSS: shared pages divided among the processes sharing
// them, so two apps' totals compare), and when a process started.
import fs from "node:fs";

const read = (file) => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
};

function pids() {
  return fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number);
}

function parentOf(pid) {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return null;
  // The command may hold spaces and parentheses: the fields start after the last ")".
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** The processes running `binary` (its real path). */
export function processesOf(binary) {
  const wanted = fs.realpathSync(binary);
  return pids().filter((pid) => {
    try {
      return fs.realpathSync(`/proc/${pid}/exe`) === wanted;
    } catch {
      return false;
    }
  });
}

/** `pid` and every process below it. */
export function tree(pid) {
  const all = pids().map((p) => [p, parentOf(p)]);
  const found = [pid];
  for (let i = 0; i < found.length; i++) {
    for (const [child, parent] of all) if (parent === found[i]) found.push(child);
  }
  return found;
}

/** PSS in MiB of each process of the tree, and their sum. */
export function pss(pid) {
  const parts = tree(pid).map((p) => {
    const rollup = read(`/proc/${p}/smaps_rollup`) ?? "";
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0);
    const mib = (kib) => Math.round((kib / 1024) * 10) / 10;
    const name = (read(`/proc/${p}/comm`) ?? "?").trim();
    // Anonymous memory (heaps, caches) apart from file pages (code, mapped files).
    return { pid: p, name, mib: mib(field("Pss")), anon_mib: mib(field("Pss_Anon")), file_mib: mib(field("Pss_File")) };
  });
  return { total_mib: Math.round(parts.reduce((sum, p) => sum + p.mib, 0) * 10) / 10, processes: parts };
}

/**
 * When `pid` started, in epoch milliseconds: its start in clock ticks after boot (the
 * kernel's 100 Hz USER_HZ) plus the boot time, taken from /proc/uptime (10 ms steps)
 * rather than /proc/stat's btime (whole seconds).
 */
export function startedAt(pid) {
  const stat = read(`/proc/${pid}/stat`);
  const startTicks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  const uptime = Number(read("/proc/uptime").split(" ")[0]);
  const bootEpoch = Date.now() - uptime * 1000;
  return bootEpoch + (startTicks / 100) * 1000;
}
