// The report every side-by-side benchmark writes (scripts/bench.sh), in Node: the same
// shape as bench/py/benchreport.py (its module docs describe the format). Every ratio
// sits under a key containing "ratio", and above 1 always means Steward did better.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-th percentile (0-100) by nearest rank. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

const round3 = (value) => Math.round(value * 1000) / 1000;
export const spread = (values) => [round3(Math.min(...values)), round3(Math.max(...values))];

const loadAverage = () => os.loadavg().map(round3);

/**
 * One measurement beside its baseline: `steward` and `baseline` are medians (or the
 * percentile named) in `unit`; times are better low, rates high. `goalRatio`: the ratio
 * the goal asks for; `goal` and `meets`: a goal in words; `roundRatios`: each round's
 * ratio of an interleaved run.
 */
export function row({ name, steward, baselineName, baseline, unit, higherIsBetter = false, goalRatio, goal, meets, roundRatios, ...extra }) {
  const ratio = higherIsBetter ? steward / baseline : baseline / steward;
  const out = { name, steward: round3(steward), baseline_name: baselineName, baseline: round3(baseline), unit, ratio: round3(ratio) };
  if (roundRatios?.length) {
    out.ratio_median_of_rounds = round3(median(roundRatios));
    out.ratio_spread = spread(roundRatios);
  }
  if (goalRatio !== undefined) {
    out.goal_ratio = goalRatio;
    out.meets = ratio >= goalRatio;
  }
  if (goal !== undefined) out.goal = goal;
  if (meets !== undefined) out.meets = meets;
  return { ...out, ...extra };
}

export class Report {
  constructor(scenario, quick) {
    this.scenario = scenario;
    this.quick = quick;
    this.rows = [];
    this.extra = {};
    this.started = Date.now();
    this.loadStart = loadAverage();
  }

  add(entry) {
    const verdict = entry.meets === undefined ? "" : entry.meets ? " (meets)" : " (MISSES the goal)";
    console.log(`${entry.name}: steward ${entry.steward} ${entry.unit} | baseline "${entry.baseline_name}" ${entry.baseline} ${entry.unit} | ratio ${entry.ratio}x${verdict}`);
    this.rows.push(entry);
  }

  write() {
    const git = (...args) => {
      try {
        return execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
      } catch {
        return "";
      }
    };
    const cpu = os.cpus()[0]?.model ?? "";
    const body = {
      scenario: this.scenario,
      mode: this.quick ? "quick" : "full",
      commit: git("rev-parse", "--short", "HEAD"),
      dirty: git("status", "--porcelain", "--untracked-files=no") !== "",
      machine: { cpu, cores: os.cpus().length, memory_gib: round3(os.totalmem() / 2 ** 30), kernel: os.release(), node: process.version },
      load_average: { start: this.loadStart, end: loadAverage() },
      started_at: new Date(this.started).toISOString().replace(/\.\d+Z$/, "Z"),
      seconds: Math.round((Date.now() - this.started) / 100) / 10,
      rows: this.rows,
      ...this.extra,
    };
    const dir = path.join(root, "bench", "results");
    fs.mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    const file = path.join(dir, `${this.scenario}${this.quick ? "-quick" : ""}-${stamp}.json`);
    fs.writeFileSync(file, JSON.stringify(body, null, 2) + "\n");
    console.log(`${this.scenario}: report written to ${path.relative(root, file)}`);
    return file;
  }
}
