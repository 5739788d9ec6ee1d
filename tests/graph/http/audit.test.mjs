// The graphql-http package's server audit against a running balance-graph: every audit,
// MUST, SHOULD and MAY alike, has to come back "ok" (no "warn", no "error").
import { test } from "node:test";
import assert from "node:assert/strict";
import { auditServer } from "graphql-http";

test("graphql-http auditServer passes every audit", async () => {
  const url = process.env.BG_URL;
  assert.ok(url, "BG_URL must name the /graphql endpoint");
  const results = await auditServer({ url });
  const counts = { ok: 0, warn: 0, error: 0 };
  for (const result of results) counts[result.status] += 1;
  console.log(JSON.stringify({ audits: results.length, ...counts }));
  const failed = results.filter((r) => r.status !== "ok");
  for (const r of failed) console.log(`${r.status} ${r.id} ${r.name}: ${r.reason}`);
  assert.equal(failed.length, 0, `${failed.length} audits not ok`);
  assert.ok(results.length >= 40, `only ${results.length} audits ran`);
});
