//! The server side of the load test and the flush benchmark: the processes that
//! scripts/scale-stack.sh started (their URLs arrive in the environment), the PostgreSQL
//! database behind them, and plain-HTTP reads of what the server holds.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub struct Stack {
    pub web: Vec<String>,
    pub events: Vec<String>,
    pub database_url: String,
    root: PathBuf,
}

fn urls(name: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(String::from)
        .collect()
}

impl Stack {
    /// The stack scripts/scale-stack.sh announced (STEWARD_STACK_WEB_URLS, ..._EVENTS_URLS,
    /// DATABASE_URL).
    pub fn from_env() -> Result<Stack, BoxError> {
        let web = urls("STEWARD_STACK_WEB_URLS");
        let events = urls("STEWARD_STACK_EVENTS_URLS");
        let database_url = std::env::var("DATABASE_URL").unwrap_or_default();
        if web.is_empty() || !database_url.starts_with("postgres") {
            return Err(
                "run this under scripts/scale-stack.sh: it starts the server processes \
                        on PostgreSQL and exports STEWARD_STACK_WEB_URLS and DATABASE_URL"
                    .into(),
            );
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Ok(Stack {
            web,
            events,
            database_url,
            root: root.canonicalize()?,
        })
    }

    fn python(&self) -> PathBuf {
        self.root.join(".venv/bin/python")
    }

    /// Runs Python in the server's Django project (`manage.py shell`) and returns what
    /// it printed.
    pub fn django(&self, script: &str) -> Result<String, BoxError> {
        // The script goes in on stdin (which `shell` runs): an argument is capped at 128 KB.
        let mut child = Command::new(self.python())
            .arg(self.root.join("server/manage.py"))
            .arg("shell")
            .env("DATABASE_URL", &self.database_url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .ok_or("no stdin")?
            .write_all(script.as_bytes())?;
        let output = child.wait_with_output()?;
        if !output.status.success() {
            return Err(format!(
                "manage.py shell failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        Ok(String::from_utf8(output.stdout)?)
    }

    /// Staff users `<prefix>00`, `<prefix>01`, ... with the moderator role and `password`.
    pub fn moderators(
        &self,
        prefix: &str,
        count: usize,
        password: &str,
    ) -> Result<Vec<String>, BoxError> {
        let names: Vec<String> = (0..count).map(|i| format!("{prefix}{i:02}")).collect();
        let script = format!(
            "from django.contrib.auth import get_user_model\n\
             from django.contrib.auth.models import Group\n\
             group, _ = Group.objects.get_or_create(name='moderator')\n\
             for name in {names:?}:\n    \
                 user, _ = get_user_model().objects.get_or_create(username=name, defaults={{'is_staff': True}})\n    \
                 user.set_password({password:?})\n    \
                 user.save()\n    \
                 user.groups.add(group)\n"
        );
        self.django(&script)?;
        Ok(names)
    }

    /// Access tokens of `count` new sessions, spread over `users`: the light clients'
    /// sessions, minted directly so that 200 password checks do not become the test.
    pub fn sessions(&self, users: &[String], count: usize) -> Result<Vec<String>, BoxError> {
        let script = format!(
            "import json\n\
             from django.contrib.auth import get_user_model\n\
             from django.utils import timezone\n\
             from steward.auth import _issue_pair\n\
             from steward.models import TokenFamily\n\
             users = list(get_user_model().objects.filter(username__in={users:?}))\n\
             tokens = []\n\
             for i in range({count}):\n    \
                 family = TokenFamily.objects.create(user=users[i % len(users)])\n    \
                 tokens.append(_issue_pair(family, timezone.now()).access_token)\n\
             print(json.dumps(tokens))\n"
        );
        let out = self.django(&script)?;
        let last = out.lines().last().unwrap_or("[]");
        Ok(serde_json::from_str(last)?)
    }

    /// Samples the database's connections twice a second until `stop`.
    pub fn sample_connections(&self) -> Result<ConnectionSampler, BoxError> {
        let child = Command::new(self.python())
            .args(["-c", SAMPLER])
            .env("DATABASE_URL", &self.database_url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        Ok(ConnectionSampler { child })
    }
}

const SAMPLER: &str = r#"
import json, os, sys, threading, psycopg
conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
total, active = [], []
while not done.is_set():
    t, a = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
    total.append(t); active.append(a)
    done.wait(0.5)
mean = lambda xs: round(sum(xs) / len(xs), 1) if xs else 0
print(json.dumps({"samples": len(total), "max": max(total, default=0), "mean": mean(total),
                  "active_max": max(active, default=0), "active_mean": mean(active)}))
"#;

pub struct ConnectionSampler {
    child: Child,
}

impl ConnectionSampler {
    /// The connections seen: max and mean, open and active.
    pub fn stop(mut self) -> Result<Value, BoxError> {
        // End of input tells the sampler to print its summary.
        drop(self.child.stdin.take());
        let output = self.child.wait_with_output()?;
        Ok(serde_json::from_slice(&output.stdout)?)
    }
}

/// An admin's view of the server over plain HTTP, to check what the clients left there.
pub struct Admin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Admin {
    pub async fn sign_in(base: &str, username: &str, password: &str) -> Result<Admin, BoxError> {
        let http = reqwest::Client::new();
        let answer: Value = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = answer["access_token"]
            .as_str()
            .ok_or("the login answer has no access token")?
            .to_string();
        Ok(Admin {
            http,
            base: base.to_string(),
            token,
        })
    }

    /// The access token, for requests of one's own.
    pub fn token(&self) -> &str {
        &self.token
    }

    pub async fn get(&self, path_and_query: &str) -> Result<Value, BoxError> {
        Ok(self
            .http
            .get(format!("{}/api/v1/{path_and_query}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Every row of a paged feed, following `next_cursor` in the `cursor_param` parameter.
    pub async fn all_rows(
        &self,
        path_and_query: &str,
        cursor_param: &str,
    ) -> Result<Vec<Value>, BoxError> {
        let mut rows = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path_and_query}&{cursor_param}={}", encode(c)),
                None => path_and_query.to_string(),
            };
            let page = self.get(&url).await?;
            rows.extend(page["results"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) if page["has_more"].as_bool().unwrap_or(false) => {
                    cursor = Some(next.to_string())
                }
                _ => return Ok(rows),
            }
        }
    }
}

/// Percent-encodes a query value (cursors are base64 and may hold `+`, `/`, `=`).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The p-th percentile (0-100) of sorted milliseconds.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Writes `report` to bench/results/<name>-<UTC date and time>.json and returns the path.
pub fn write_result(name: &str, report: &Value) -> Result<PathBuf, BoxError> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    std::fs::create_dir_all(&dir)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let path = dir.join(format!("{name}-{stamp}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(report)? + "\n")?;
    Ok(path)
}

/// Every cached item of a queue in one state, page by page (a page holds at most 1,000).
pub async fn cached_items_in(
    engine: &steward_engine::Engine,
    queue_id: i64,
    state: steward_core::ItemState,
) -> Result<Vec<steward_core::ItemSummary>, BoxError> {
    let mut items = Vec::new();
    loop {
        let page = engine
            .list_items(
                queue_id,
                state,
                steward_core::ItemSort::OldestFirst,
                items.len() as i64,
                1000,
            )
            .await?;
        let done = page.items.is_empty() || items.len() + page.items.len() >= page.total as usize;
        items.extend(page.items);
        if done {
            return Ok(items);
        }
    }
}

/// The commit being measured (short hash), for the reports.
pub fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
