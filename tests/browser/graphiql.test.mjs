// GraphiQL as a user meets it: headless Chromium, no network beyond the service, its own CSP.
//
// Run by tests/browser/test_graphiql.py, which starts the service and sets:
//   BG_URL           the service's base URL, e.g. http://127.0.0.1:8000
//   BG_ACCOUNT       an address holding tokens
//   BG_EXPECTED_RAW  a raw balance of that account that the result must show
//   BG_SCREENSHOT    where to save a full-page PNG
// and, optionally, CHROMIUM (the browser binary; see ./chromium.mjs for how one is found).
import assert from "node:assert/strict";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { chromiumLaunchOptions } from "./chromium.mjs";

const BASE = required("BG_URL");
const ACCOUNT = required("BG_ACCOUNT");
const EXPECTED_RAW = required("BG_EXPECTED_RAW");
const SCREENSHOT = required("BG_SCREENSHOT");
const ORIGIN = new URL(BASE).origin;
const QUERY = `{ account(address: "${ACCOUNT}") { balances { rawAmount token { symbol } } } }`;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
}

// Found (and, for the npm package's Chromium, unpacked) before the test's own timeout starts.
const { source, options } = await chromiumLaunchOptions();

test("GraphiQL runs a query offline, from same-origin assets, under its CSP", { timeout: 30_000 }, async () => {
  console.log(`browser: ${source}`);
  const browser = await chromium.launch(options);
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const blocked = [];
    const failed = [];
    const errors = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("data:") || new URL(url).origin === ORIGIN) return route.continue();
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
    page.on("console", (msg) => msg.type() === "error" && errors.push(`console: ${msg.text()}`));
    page.on("pageerror", (err) => errors.push(`page: ${err.message}`));
    page.on("requestfailed", (req) => failed.push(`${req.url()}: ${req.failure()?.errorText}`));
    page.on("response", (res) => res.status() >= 400 && failed.push(`${res.url()}: ${res.status()}`));

    const response = await page.goto(`${BASE}/graphql`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()["content-security-policy"] ?? "", /default-src 'self'/);
    await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 15_000 });

    // The page's JSON config reached GraphiQL: three example tabs, the headers editor, the explorer.
    assert.equal(await page.locator(".graphiql-tab").count(), 3);
    await page.waitForSelector(".graphiql-explorer-root", { timeout: 10_000 });
    const headers = await page.evaluate(
      () => document.querySelector(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")?.CodeMirror.getValue() ?? "",
    );
    assert.match(headers, /x-api-key/);

    await page.evaluate((query) => {
      document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(query);
    }, QUERY);
    // GraphiQL re-reads the operation name 100 ms after an edit; running before that would
    // send the old tab's `operationName` with an anonymous query. The tab title shows when it has.
    await page.waitForSelector(".graphiql-tab-active >> text=<untitled>", { timeout: 5_000 });
    await page.click(".graphiql-execute-button");
    const resultText = () =>
      page.evaluate(() => document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue() ?? "");
    await page
      .waitForFunction(
        (raw) => document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue().includes(raw),
        EXPECTED_RAW,
        { timeout: 10_000 },
      )
      .catch(async (err) => {
        throw new Error(`${EXPECTED_RAW} never shown; result pane: ${await resultText()}; ${errors}`, { cause: err });
      });
    const result = JSON.parse(await resultText());
    assert.ok(!result.errors, JSON.stringify(result.errors));
    assert.ok(result.data.account.balances.some((b) => b.rawAmount === EXPECTED_RAW));

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const violations = await page.evaluate(() => window.__cspViolations);
    assert.deepEqual(blocked, [], "requests to other origins were attempted");
    assert.deepEqual(violations, [], "CSP violations");
    assert.deepEqual(failed, [], "failed requests");
    assert.deepEqual(errors, [], "console or page errors");
  } finally {
    await browser.close();
  }
});
