// SCREENSHOT HELPER ONLY: a fake of Tauri's IPC so the UI can run in plain Chromium.
// Never used by tests; the real app talks to Rust.
(() => {
  const scenario = new URLSearchParams(location.search).get("scenario") || "main";
  const production = scenario === "production";
  const now = Date.now();
  const ago = (m) => new Date(now - m * 60000).toISOString();
  const session = {
    profile: production ? "production" : "staging",
    server_url: production ? "https://mod.example.com" : "https://staging.mod.example.com",
    production,
    user: { id: 7, username: "moderator", display_name: "Dana Moderator", roles: ["moderator"], permissions: ["items.decide"] },
  };
  const queues = [
    { id: 1, slug: "reported-posts", name: "Reported posts", priority: 5, open_count: 14, oldest_open_at: ago(190) },
    { id: 2, slug: "csam-hash", name: "Hash matches", priority: 3, open_count: 6, oldest_open_at: ago(42) },
    { id: 3, slug: "new-accounts", name: "New account spam", priority: 1, open_count: 10, oldest_open_at: ago(60 * 27) },
  ];
  const titles = [
    "Buy cheap followers now — limited offer", "Re: thread about the local election", "Check out my new mixtape!!!",
    "You people are all idiots", "Free crypto giveaway, DM me", "Photos from the meetup", "Why is the app so slow today",
    "Selling concert tickets below face value", "Please remove my old post", "This user keeps harassing me",
    "Weekly discussion thread #214", "Anyone know a good plumber?", "LOL look at this", "[deleted by author?]",
    "Investment opportunity 500% returns",
  ];
  const authors = ["jdoe", "spam_king_99", "maria.k", "throwaway_4412", "pete", "coinbot", "lena_w", "quietfox", "ak47_fan", "nora"];
  const reasons = ["spam", "harassment", "nsfw", "other", "hate_speech"];
  const counts = { 1: 14, 2: 6, 3: 10 };
  const items = [];
  let id = 1040;
  for (const q of queues) {
    for (let n = 0; n < counts[q.id]; n++) {
      id++;
      const created = (counts[q.id] - n) * 13 + (q.id * 7);
      items.push({
        id, queue_id: q.id, state: "open", version: 1 + (n % 3),
        title: titles[(id * 7) % titles.length], author_username: authors[(id * 3) % authors.length],
        report_count: 1 + ((id * 5) % 9), top_reason: reasons[(id + q.id) % reasons.length],
        created_at: ago(created), updated_at: ago(created - 2), pending_action: null,
      });
    }
  }
  items[2].pending_action = "approve";
  items[0].title = "Buy cheap followers now — limited offer, click here";
  items[0].report_count = 12;
  items[0].top_reason = "spam";
  items[0].author_username = "spam_king_99";
  const safeHtml =
    '<h2>Get 10,000 followers in 24 hours!!!</h2>' +
    '<p>Tired of nobody seeing your posts? Our <strong>100% real</strong> followers will boost your reach. ' +
    'Sign up at <a href="https://cheap-followers.example/ref?u=4412" rel="noopener noreferrer">cheap-followers.example</a> before the offer ends.</p>' +
    '<p><img alt="tracking pixel (src removed by the sanitizer)"></p>' +
    '<ul><li>No password needed*</li><li>Works with every platform</li><li>Pay with gift cards</li></ul>' +
    '<blockquote>I went from 12 to 40k followers in a week! — definitely a real customer</blockquote>' +
    '<p>alert("pwned") &lt;script&gt; text survives only as text.</p>' +
    '<pre>*terms apply, see fine print</pre>';
  const detail = (itemId) => {
    const summary = items.find((i) => i.id === itemId);
    return {
      summary,
      safe_html: itemId === items[0].id ? safeHtml : `<p>${summary.title}</p><p>Posted in <em>general</em>. Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.</p>`,
      author: { id: 300 + (itemId % 50), username: summary.author_username, status: itemId % 4 === 1 ? "suspended" : "active" },
      reports: Array.from({ length: Math.min(summary.report_count, 4) }, (_, k) => ({
        reason: reasons[(itemId + k) % reasons.length],
        note: k === 0 ? "This account posts the same link in every thread, dozens of times a day." : k === 1 ? "scam" : "",
        created_at: ago(30 + k * 45),
      })),
      claim: null,
    };
  };
  const syncStatus = { online: true, syncing: false, pending: 1, conflicts: 0, last_synced_at: ago(1), last_error: null };
  const error = (code, message) => Promise.reject({ code, message });
  const handlers = {
    get_app_state: () => ({ session: scenario === "signin" ? null : session, default_server_url: "https://staging.mod.example.com", needs_sign_in_reason: scenario === "signin" ? { code: "session_expired", message: "Your session expired. Sign in again to continue." } : null }),
    sign_in: ({ password }) => (password === "e2e-pass" ? session : error("invalid_credentials", "Wrong username or password.")),
    sign_out: () => null,
    list_queues: () => queues,
    list_queue_items: ({ queueId }) => items.filter((i) => i.queue_id === queueId && i.state === "open"),
    get_item: ({ itemId }) => detail(itemId),
    decide_item: ({ itemId, action }) => { const i = items.find((x) => x.id === itemId); i.pending_action = action; syncStatus.pending++; return i; },
    sync_now: () => syncStatus,
    get_sync_status: () => syncStatus,
    "plugin:event|listen": () => Math.floor(Math.random() * 1e6),
    "plugin:event|unlisten": () => null,
  };
  const callbacks = new Map();
  let nextCallback = 1;
  window.__TAURI_INTERNALS__ = {
    metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
    invoke: async (cmd, args) => {
      const handler = handlers[cmd];
      if (!handler) return Promise.reject(`command ${cmd} not found`);
      return structuredClone(await handler(args || {}));
    },
    transformCallback: (cb) => { const n = nextCallback++; callbacks.set(n, cb); return n; },
    unregisterCallback: (n) => callbacks.delete(n),
    convertFileSrc: (p) => p,
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener: () => {} };
})();
