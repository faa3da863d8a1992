// The product's own site, as one of its users sees it: Django's sign-in page, the forum's
// pages and its report endpoint, over HTTP with a cookie jar and Django's CSRF token.
import { MEMBER_PASSWORD } from "./server.mjs";

export class ProductUser {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
    this.cookies = new Map();
  }

  cookieHeader() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async request(pathname, { method = "GET", form = null, headers = {} } = {}) {
    const response = await fetch(`${this.baseUrl}${pathname}`, {
      method,
      redirect: "manual",
      headers: {
        Cookie: this.cookieHeader(),
        Referer: `${this.baseUrl}${pathname}`,
        ...(form ? { "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": this.cookies.get("csrftoken") ?? "" } : {}),
        ...headers,
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    }).catch((error) => {
      throw new Error(`${method} ${pathname} on the product failed: ${error.cause?.message ?? error.message}`);
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, ...value] = pair.split("=");
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value.join("="));
    }
    return response;
  }

  /** Signs in through Django's own login page; true when the product let them in. */
  async signIn(username, password = MEMBER_PASSWORD) {
    this.cookies.clear();
    const page = await (await this.request("/accounts/login/")).text();
    const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(page)?.[1] ?? "";
    const answer = await this.request("/accounts/login/", {
      method: "POST",
      form: { username, password, csrfmiddlewaretoken: token },
    });
    return answer.status === 302 && this.cookies.has("sessionid");
  }

  /** Whether the product still takes this user's session (its report endpoint needs one). */
  async sessionAlive(postId) {
    const answer = await this.request(`/posts/${postId}/report`, {
      method: "POST",
      form: { reason: "other", note: "session check" },
      headers: { Accept: "application/json" },
    });
    return answer.status === 201;
  }

  /** Reports a post as this user, through the product's endpoint (which calls steward.report). */
  async report(postId, reason, note = "") {
    const answer = await this.request(`/posts/${postId}/report`, {
      method: "POST",
      form: { reason, note },
      headers: { Accept: "application/json" },
    });
    if (answer.status !== 201) throw new Error(`reporting ${postId}: ${answer.status} ${await answer.text()}`);
    return answer.json();
  }

  /** The forum's list of posts, as its HTML says: the ids it shows. */
  async listedPosts() {
    const page = await (await this.request("/")).text();
    return [...page.matchAll(/data-post="([^"]+)"/g)].map((match) => match[1]);
  }
}
