// A second client: talks to the server over HTTP as the seeded admin, to check what the
// app really did and to change things behind its back.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { ADMIN, ADMIN_PASSWORD } from "./server.mjs";

export async function adminClient(serverUrl, username = ADMIN, password = ADMIN_PASSWORD) {
  const response = await fetch(`${serverUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(response.status, 200, `${username} login failed: ${await response.clone().text()}`);
  const { access_token: token } = await response.json();
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  const client = {
    async get(pathAndQuery) {
      const reply = await fetch(`${serverUrl}/api/v1${pathAndQuery}`, { headers });
      if (!reply.ok) throw new Error(`GET ${pathAndQuery} -> ${reply.status} ${await reply.text()}`);
      return reply.json();
    },
    async post(pathAndQuery, body) {
      const reply = await fetch(`${serverUrl}/api/v1${pathAndQuery}`, {
        method: "POST",
        headers: { ...headers, "Idempotency-Key": randomUUID() },
        body: JSON.stringify(body),
      });
      return { status: reply.status, body: await reply.json().catch(() => null) };
    },
    /** Every item.decide audit event for an item, oldest first. */
    async decisionsOn(itemId) {
      const audit = await client.get(`/audit?action=item.decide&target_type=item&target_id=${itemId}`);
      return audit.results;
    },
  };
  return client;
}
