//! The report every side-by-side benchmark writes (scripts/bench.sh), in Rust: the same
//! shape as bench/py/benchreport.py (read its module docs for the format). One JSON file
//! per scenario run, bench/results/<scenario>[-quick]-<UTC time>.json, with the commit,
//! the machine, the load average at start and end, and one row per measurement beside
//! its baseline; every ratio sits under a key containing "ratio", and above 1 always
//! means Steward did better.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::stack::BoxError;

/// One measurement beside its baseline. `steward` and `baseline` are medians in `unit`.
pub struct Row {
    pub name: String,
    pub steward: f64,
    pub baseline_name: String,
    pub baseline: f64,
    pub unit: &'static str,
    /// Rates (rows/s) are better high; times are better low.
    pub higher_is_better: bool,
    /// The ratio the goal asks for; `meets` is then ratio >= goal_ratio.
    pub goal_ratio: Option<f64>,
    /// The goal in words, for goals that are not a ratio to this baseline.
    pub goal: Option<String>,
    /// Met, for a goal in words (a ratio goal computes its own).
    pub meets: Option<bool>,
    /// Each round's ratio in an interleaved run (A B A B): median and range reported.
    pub round_ratios: Vec<f64>,
    pub extra: Map<String, Value>,
}

impl Row {
    pub fn new(
        name: impl Into<String>,
        steward: f64,
        baseline_name: impl Into<String>,
        baseline: f64,
        unit: &'static str,
        higher_is_better: bool,
    ) -> Row {
        Row {
            name: name.into(),
            steward,
            baseline_name: baseline_name.into(),
            baseline,
            unit,
            higher_is_better,
            goal_ratio: None,
            goal: None,
            meets: None,
            round_ratios: Vec::new(),
            extra: Map::new(),
        }
    }

    pub fn goal_ratio(mut self, ratio: f64) -> Row {
        self.goal_ratio = Some(ratio);
        self
    }

    pub fn goal(mut self, words: impl Into<String>, meets: bool) -> Row {
        self.goal = Some(words.into());
        self.meets = Some(meets);
        self
    }

    pub fn rounds(mut self, ratios: Vec<f64>) -> Row {
        self.round_ratios = ratios;
        self
    }

    pub fn with(mut self, key: &str, value: Value) -> Row {
        self.extra.insert(key.to_string(), value);
        self
    }

    pub fn ratio(&self) -> f64 {
        if self.higher_is_better {
            self.steward / self.baseline
        } else {
            self.baseline / self.steward
        }
    }

    fn to_json(&self) -> Value {
        let ratio = self.ratio();
        let mut out = Map::new();
        out.insert("name".into(), json!(self.name));
        out.insert("steward".into(), json!(round3(self.steward)));
        out.insert("baseline_name".into(), json!(self.baseline_name));
        out.insert("baseline".into(), json!(round3(self.baseline)));
        out.insert("unit".into(), json!(self.unit));
        out.insert("ratio".into(), json!(round3(ratio)));
        if !self.round_ratios.is_empty() {
            out.insert(
                "ratio_median_of_rounds".into(),
                json!(round3(median(&self.round_ratios))),
            );
            out.insert("ratio_spread".into(), json!(spread(&self.round_ratios)));
        }
        if let Some(goal) = self.goal_ratio {
            out.insert("goal_ratio".into(), json!(goal));
            out.insert("meets".into(), json!(ratio >= goal));
        }
        if let Some(goal) = &self.goal {
            out.insert("goal".into(), json!(goal));
        }
        if let Some(meets) = self.meets {
            out.insert("meets".into(), json!(meets));
        }
        out.extend(self.extra.clone());
        Value::Object(out)
    }
}

/// Collects rows and writes the scenario's file.
pub struct Report {
    scenario: String,
    quick: bool,
    rows: Vec<Value>,
    pub extra: Map<String, Value>,
    started: Instant,
    started_at: String,
    load_start: Vec<f64>,
}

impl Report {
    pub fn new(scenario: &str, quick: bool) -> Report {
        Report {
            scenario: scenario.to_string(),
            quick,
            rows: Vec::new(),
            extra: Map::new(),
            started: Instant::now(),
            started_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            load_start: load_average(),
        }
    }

    /// Adds the row and prints its line.
    pub fn row(&mut self, row: Row) {
        let json = row.to_json();
        let verdict = match json.get("meets").and_then(Value::as_bool) {
            Some(true) => " (meets)",
            Some(false) => " (MISSES the goal)",
            None => "",
        };
        println!(
            "{}: steward {:.3} {} | baseline \"{}\" {:.3} {} | ratio {:.2}x{verdict}",
            row.name,
            row.steward,
            row.unit,
            row.baseline_name,
            row.baseline,
            row.unit,
            row.ratio()
        );
        self.rows.push(json);
    }

    pub fn set(&mut self, key: &str, value: Value) {
        self.extra.insert(key.to_string(), value);
    }

    pub fn write(self) -> Result<PathBuf, BoxError> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .current_dir(root)
                .output()
                .ok()
                .and_then(|out| String::from_utf8(out.stdout).ok())
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let mut body = Map::new();
        body.insert("scenario".into(), json!(self.scenario));
        body.insert(
            "mode".into(),
            json!(if self.quick { "quick" } else { "full" }),
        );
        body.insert(
            "commit".into(),
            json!(git(&["rev-parse", "--short", "HEAD"])),
        );
        body.insert(
            "dirty".into(),
            json!(!git(&["status", "--porcelain", "--untracked-files=no"]).is_empty()),
        );
        body.insert("machine".into(), machine());
        body.insert(
            "load_average".into(),
            json!({"start": self.load_start, "end": load_average()}),
        );
        body.insert("started_at".into(), json!(self.started_at));
        body.insert(
            "seconds".into(),
            json!((self.started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
        );
        body.insert("rows".into(), Value::Array(self.rows));
        body.extend(self.extra);
        let dir = root.join("bench").join("results");
        std::fs::create_dir_all(&dir)?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let suffix = if self.quick { "-quick" } else { "" };
        let path = dir.join(format!("{}{suffix}-{stamp}.json", self.scenario));
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&Value::Object(body))? + "\n",
        )?;
        println!("{}: report written to {}", self.scenario, path.display());
        Ok(path)
    }
}

pub fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|v| v.parse().ok())
        .collect()
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, name)| name.trim().to_string())
        .unwrap_or_default();
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kib| (kib / 1024.0 / 1024.0 * 10.0).round() / 10.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": memory_gib,
        "kernel": kernel.trim(),
    })
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The p-th percentile (0-100) by nearest rank.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// [min, max] of per-round figures.
pub fn spread(values: &[f64]) -> [f64; 2] {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    [round3(min), round3(max)]
}
