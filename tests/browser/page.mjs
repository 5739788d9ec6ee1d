// GraphiQL opened as a user meets it, for the browser tests: a fresh browser context that
// blocks every other origin and records every failed request, console error and CSP violation.
import assert from "node:assert/strict";

/** GraphiQL loaded in a fresh browser that blocks every other origin and records every
 * failed request, console error and CSP violation; `check()` asserts there were none. */
export async function openGraphiQL(browser, base) {
  const origin = new URL(base).origin;
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const blocked = [];
  const failed = [];
  const errors = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("data:") || new URL(url).origin === origin) return route.continue();
    blocked.push(url);
    return route.abort("blockedbyclient");
  });
  // Injected by the browser, not the page, so the page's CSP does not apply to it.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
    });
  });
  const page = await context.newPage();
  page.on("console", (msg) => ["error", "warning"].includes(msg.type()) && errors.push(`console: ${msg.text()}`));
  page.on("pageerror", (err) => errors.push(`page: ${err.message}`));
  page.on("requestfailed", (req) => failed.push(`${req.url()}: ${req.failure()?.errorText}`));
  page.on("response", (res) => res.status() >= 400 && failed.push(`${res.url()}: ${res.status()}`));

  const response = await page.goto(`${base}/graphql`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-security-policy"] ?? "", /default-src 'self'/);
  await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 15_000 });
  const check = async () => {
    const violations = await page.evaluate(() => window.__cspViolations);
    assert.deepEqual(blocked, [], "requests to other origins were attempted");
    assert.deepEqual(violations, [], "CSP violations");
    assert.deepEqual(failed, [], "failed requests");
    assert.deepEqual(errors, [], "console or page errors");
  };
  return { page, errors, check };
}

export const resultText = (page) =>
  page.evaluate(() => document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue() ?? "");

