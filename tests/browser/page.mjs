// Pages opened as a user meets them, for the browser tests: a fresh browser context that
// blocks every other origin and records every failed request, console error and CSP violation.
import assert from "node:assert/strict";

/** `url` in a fresh context that lets only its origin through. `check()` asserts that nothing
 * else was asked for (with `images`, logos on other hosts may be: they are blocked too, and a
 * page must cope), that no request to the service failed, and that there was no console error
 * or warning, page error or CSP violation. */
export async function openIsolated(browser, url, { viewport = { width: 1440, height: 900 }, images = false } = {}) {
  const origin = new URL(url).origin;
  const context = await browser.newContext({ viewport, locale: "en-US" });
  const blocked = [];
  const failed = [];
  const errors = [];
  await context.route("**/*", (route) => {
    const target = route.request().url();
    if (target.startsWith("data:") || new URL(target).origin === origin) return route.continue();
    blocked.push({ url: target, type: route.request().resourceType() });
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
  page.on("console", (msg) => {
    const blockedLogo = images && msg.text().includes("ERR_BLOCKED_BY_CLIENT");
    if (["error", "warning"].includes(msg.type()) && !blockedLogo) errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`page: ${err.message}`));
  page.on("requestfailed", (req) => {
    if (new URL(req.url()).origin === origin) failed.push(`${req.url()}: ${req.failure()?.errorText}`);
  });
  page.on("response", (res) => res.status() >= 400 && failed.push(`${res.url()}: ${res.status()}`));

  const response = await page.goto(url);
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-security-policy"] ?? "", /default-src 'self'/);
  const check = async () => {
    const others = blocked.filter((b) => !(images && b.type === "image")).map((b) => b.url);
    assert.deepEqual(others, [], "requests to other origins were attempted");
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], "CSP violations");
    assert.deepEqual(failed, [], "failed requests");
    assert.deepEqual(errors, [], "console or page errors");
  };
  return { page, blocked, errors, check };
}

/** GraphiQL at `base`, its editor ready. */
export async function openGraphiQL(browser, base) {
  const opened = await openIsolated(browser, `${base}/graphql`);
  await opened.page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 15_000 });
  return opened;
}

export const resultText = (page) =>
  page.evaluate(() => document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue() ?? "");
