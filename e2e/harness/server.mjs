// The real Django server for end-to-end tests: migrate, seed, gunicorn on a free port.
// stop() and start() again keep the port and the database, so a test can take the server
// away from the app and bring it back as it was.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { artifacts, freePort, repo, waitFor } from "./util.mjs";

const python = process.env.PYTHON ?? path.join(repo, ".venv", "bin", "python");

export const PASSWORD = "e2e-pass";
/** What the forum's members sign in to the product with (server/forum/seed/content.py). */
export const MEMBER_PASSWORD = "member-demo";
export const MODERATOR = "moderator";
export const ADMIN = process.env.E2E_ADMIN_USER ?? "admin";
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? PASSWORD;

export class TestServer {
  /**
   * @param {{tmp: string, name: string, items?: number, seed?: string[], env?: object}} options `seed`:
   *   more seed_demo arguments (`["--jobs", "30"]`); `env`: settings for the server's
   *   processes (`{STEWARD_ACCESS_TOKEN_TTL: "5"}`).
   */
  constructor({ tmp, name, items = 40, seed = [], env = {} }) {
    this.tmp = tmp;
    this.name = name;
    this.items = items;
    this.seed = seed;
    this.extraEnv = env;
    this.process = null;
    this.port = null;
    /** The product's job workers and Celery's broker, when `startWorkers` ran. */
    this.workers = [];
    this.redisUrl = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  env() {
    return {
      ...process.env,
      DATABASE_URL: `sqlite:///${path.join(this.tmp, "db.sqlite3")}`,
      DJANGO_SECRET_KEY: process.env.DJANGO_SECRET_KEY ?? "e2e-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz",
      DJANGO_ALLOWED_HOSTS: process.env.DJANGO_ALLOWED_HOSTS ?? "127.0.0.1,localhost",
      // The product's own pages link here (an item's "view on site").
      ...(this.port ? { STEWARD_PUBLIC_URL: this.url } : {}),
      ...(this.redisUrl ? { CELERY_BROKER_URL: `${this.redisUrl}/0` } : {}),
      ...this.extraEnv,
    };
  }

  manage(...args) {
    return execFileSync(python, [path.join("server", "manage.py"), ...args], {
      cwd: repo,
      env: this.env(),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
  }

  /** Runs Python inside Django (manage.py shell -c) and returns what it printed. */
  shell(code) {
    return this.manage("shell", "-c", code).trim();
  }

  /** Migrates and seeds once, then serves (with the product's job workers: `workers`). */
  async setUp({ workers = false } = {}) {
    this.manage("migrate", "--noinput");
    this.manage("seed_demo", "--items", String(this.items), ...this.seed, "--password", PASSWORD);
    this.port = await freePort();
    if (workers) await this.startWorkers();
    await this.start();
  }

  /**
   * Starts what runs the product's background jobs, as scripts/demo-server.sh does: a
   * throwaway Redis (Celery's broker), django-tasks' db_worker and a Celery worker. Call
   * before `start` to give the web server the broker too (setUp's `workers` option).
   */
  async startWorkers() {
    const redisDir = path.join(this.tmp, "redis");
    const redisPort = await freePort();
    this.redisUrl = execFileSync(path.join(repo, "server", "scripts", "start_redis.sh"), [], {
      env: { ...process.env, REDIS_DIR: redisDir, REDIS_PORT: String(redisPort) },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
    const spawnWorker = (name, args) => {
      const log = fs.openSync(path.join(artifacts, `${name}-${this.name}.log`), "a");
      const child = spawn(python, args, { cwd: path.join(repo, "server"), env: this.env(), stdio: ["ignore", log, log] });
      this.workers.push(child);
      return child;
    };
    spawnWorker("db-worker", ["manage.py", "db_worker", "--no-reload", "--queue-name", "*"]);
    spawnWorker("celery", ["-m", "celery", "-A", "demo", "worker", "--concurrency", "1", "--without-mingle", "--without-gossip", "--loglevel", "INFO"]);
    const celeryLog = path.join(artifacts, `celery-${this.name}.log`);
    await waitFor("the Celery worker", () => fs.readFileSync(celeryLog, "utf8").includes("ready."), 60_000, 200);
  }

  async stopWorkers() {
    for (const child of this.workers) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    }
    await Promise.all(
      this.workers.map((child) =>
        waitFor("a worker to stop", () => child.exitCode !== null || child.signalCode !== null, 10_000, 100).catch(() => child.kill("SIGKILL")),
      ),
    );
    this.workers = [];
    if (this.redisUrl) {
      execFileSync(path.join(repo, "server", "scripts", "start_redis.sh"), ["stop"], {
        env: { ...process.env, REDIS_DIR: path.join(this.tmp, "redis") },
        stdio: "ignore",
      });
      this.redisUrl = null;
    }
  }

  /** Runs every queued task once (django-tasks' database worker), then returns. */
  runWorkerBatch() {
    return this.manage("db_worker", "--batch", "--no-startup-delay", "--no-reload");
  }

  async start() {
    const log = fs.openSync(path.join(artifacts, `gunicorn-${this.name}.log`), "a");
    this.process = spawn(
      python,
      ["-m", "gunicorn", "--chdir", "server", "demo.wsgi:application",
        "--bind", `127.0.0.1:${this.port}`, "--workers", "2", "--threads", "4", "--no-control-socket",
        // Longer than Node's fetch keeps an idle connection (4 s): with gunicorn's default
        // of 2 s, a test's second request could go out on a socket the server had just
        // closed ("other side closed").
        "--keep-alive", "10"],
      { cwd: repo, env: this.env(), stdio: ["ignore", log, log] },
    );
    const child = this.process;
    // Any HTTP answer means Django is serving; without a token /queues answers 401.
    await waitFor("the Django server", async () => {
      if (child.exitCode !== null) throw new Error(`gunicorn exited with ${child.exitCode}; see e2e/artifacts/gunicorn-${this.name}.log`);
      const response = await fetch(`${this.url}/api/v1/queues`);
      return response.status < 500;
    });
  }

  async stop() {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await waitFor("gunicorn to stop", () => child.exitCode !== null || child.signalCode !== null, 10_000, 100).catch(() =>
      child.kill("SIGKILL"),
    );
    // The port must refuse connections before the test goes on.
    await waitFor("the port to close", async () => {
      try {
        await fetch(`${this.url}/api/v1/queues`);
        return false;
      } catch {
        return true;
      }
    }, 10_000, 100);
    this.process = null;
  }
}
