//! Starts the real Django reference server for a test: a fresh SQLite database, seed data,
//! and gunicorn on a free loopback port. The server can be stopped and started again on
//! the same port and database, to test going offline.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "test-pass";

pub struct TestServer {
    pub url: String,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    env: Vec<(String, String)>,
    /// Served under ASGI (uvicorn), where the live-update stream stays open.
    asgi: bool,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The reference server's directory: this checkout's `server/`, or `STEWARD_SERVER_DIR`
/// (a snapshot of it, to test the client against a fixed server while it is edited).
fn server_dir() -> PathBuf {
    match std::env::var_os("STEWARD_SERVER_DIR") {
        Some(path) => PathBuf::from(path),
        None => repo_root().join("server"),
    }
}

fn python() -> PathBuf {
    match std::env::var_os("STEWARD_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => repo_root().join(".venv/bin/python"),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestServer {
    /// Migrates a new database, seeds `items` items and starts the server.
    pub fn start(items: u32) -> TestServer {
        Self::start_with(items, &[])
    }

    /// Like `start`, with extra environment for the server (e.g. a short token lifetime).
    pub fn start_with(items: u32, env: &[(&str, &str)]) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut server = TestServer {
            url: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            child: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            asgi: false,
        };
        server.manage(&["migrate", "--noinput"]);
        server.manage(&[
            "seed_demo",
            "--items",
            &items.to_string(),
            "--password",
            PASSWORD,
        ]);
        server.resume();
        server
    }

    fn command(&self) -> Command {
        let mut command = Command::new(python());
        command
            .current_dir(server_dir())
            .env(
                "DATABASE_URL",
                format!("sqlite:///{}/db.sqlite3", self.dir.path().display()),
            )
            .env("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
            .env_remove("DJANGO_DEBUG")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    }

    fn manage(&self, args: &[&str]) {
        let output = self
            .command()
            .arg("manage.py")
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} (set STEWARD_PYTHON or create .venv): {e}",
                    python().display()
                )
            });
        assert!(
            output.status.success(),
            "manage.py {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Like `start`, served by uvicorn under ASGI so live updates stream.
    pub fn start_asgi(items: u32) -> TestServer {
        let mut server = Self::start_with(items, &[]);
        server.stop();
        server.asgi = true;
        server.resume();
        server
    }

    /// Runs every queued background job to completion (django-tasks' db_worker --batch).
    pub fn run_worker(&self) {
        self.manage(&["db_worker", "--batch", "--no-startup-delay", "--no-reload"]);
    }

    /// Migrates and seeds with extra `seed_demo` options (e.g. `--jobs 30`).
    pub fn start_seeded(args: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut server = TestServer {
            url: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            child: None,
            env: Vec::new(),
            asgi: false,
        };
        server.manage(&["migrate", "--noinput"]);
        let mut seed = vec!["seed_demo", "--password", PASSWORD];
        seed.extend_from_slice(args);
        server.manage(&seed);
        server.resume();
        server
    }

    /// Runs Python in the server's Django shell (the product's own code path, as an
    /// admin would change roles); returns what it printed.
    pub fn shell(&self, script: &str) -> String {
        let output = self
            .command()
            .args(["manage.py", "shell", "-c", script])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "manage.py shell failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Gives a staff user a role (a Django group), or takes it away.
    pub fn set_role(&self, username: &str, role: &str, granted: bool) {
        let change = if granted { "add" } else { "remove" };
        self.shell(&format!(
            "from django.contrib.auth import get_user_model\n\
             from django.contrib.auth.models import Group\n\
             user = get_user_model().objects.get(username={username:?})\n\
             user.groups.{change}(Group.objects.get_or_create(name={role:?})[0])\n"
        ));
    }

    /// Adds an open item with the given (untrusted) body to the first queue; returns its id.
    pub fn create_item(&self, title: &str, body_html: &str) -> i64 {
        let script = format!(
            "from django.utils import timezone\n\
             from steward.models import Item, Member, Queue, Report\n\
             now = timezone.now()\n\
             item = Item.objects.create(queue=Queue.objects.order_by('-priority').first(), author=Member.objects.first(), \
             title={title:?}, body_html={body_html:?}, created_at=now, updated_at=now)\n\
             Report.objects.create(item=item, reason='other', note='test', created_at=now)\n\
             print('ITEM', item.id)\n"
        );
        let output = self
            .command()
            .args(["manage.py", "shell", "-c", &script])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "creating an item failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
            .lines()
            .find_map(|line| line.strip_prefix("ITEM "))
            .and_then(|id| id.trim().parse().ok())
            .unwrap_or_else(|| panic!("no item id in {stdout:?}"))
    }

    /// Starts (again) the server on the same port and database, and waits until it answers.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let log = std::fs::File::create(self.dir.path().join("gunicorn.log")).unwrap();
        let mut command = self.command();
        if self.asgi {
            command
                .args([
                    "-m",
                    "uvicorn",
                    "demo.asgi:application",
                    "--host",
                    "127.0.0.1",
                ])
                .args(["--port", &self.port.to_string(), "--log-level", "warning"]);
        } else {
            command
                .args([
                    "-m",
                    "gunicorn",
                    "demo.wsgi:application",
                    "--workers",
                    "2",
                    "--no-control-socket",
                ])
                .args(["--bind", &format!("127.0.0.1:{}", self.port)]);
        }
        let child = command.stdout(Stdio::null()).stderr(log).spawn().unwrap();
        self.child = Some(child);
        // Generous: on two busy cores several tests start their servers at once.
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("the server exited with {status}; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the server did not start within 120 s; log:\n{}",
            self.log()
        );
    }

    /// Stops the server: the client sees connection refused until `resume`.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // gunicorn's workers exit with the arbiter; wait until the port is free.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline
            && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gunicorn.log")).unwrap_or_default()
    }

    /// An admin's access token, for checking the server's state over plain HTTP.
    pub async fn admin_token(&self) -> String {
        self.token_for("admin").await
    }

    pub async fn token_for(&self, username: &str) -> String {
        let response: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.url))
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        response["access_token"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, token: &str, path_and_query: &str) -> serde_json::Value {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/{path_and_query}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path_and_query}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Decision audit events the server holds for one item.
pub async fn decide_events(
    server: &TestServer,
    token: &str,
    item_id: i64,
) -> Vec<serde_json::Value> {
    let page = server
        .get(
            token,
            &format!("audit?action=item.decide&target_type=item&target_id={item_id}"),
        )
        .await;
    page["results"].as_array().unwrap().clone()
}
