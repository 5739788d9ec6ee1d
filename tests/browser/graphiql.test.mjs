// GraphiQL as a user meets it: headless Chromium, no network beyond the service, its own CSP.
//
// Run by tests/browser/test_graphiql.py, which starts the service and sets:
//   BG_URL           the service's base URL, e.g. http://127.0.0.1:8000
//   BG_ACCOUNT       an address holding tokens
//   BG_EXPECTED_RAW  a raw balance of that account that the result must show
//   BG_TOKEN         the token (on chain `devnet`) that balance is of
//   BG_SCREENSHOT    where to save a full-page PNG
// and, optionally, CHROMIUM (the browser binary; see ./chromium.mjs for how one is found).
import assert from "node:assert/strict";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { chromiumLaunchOptions } from "./chromium.mjs";
import { openGraphiQL as openPage, resultText } from "./page.mjs";

const BASE = required("BG_URL");
const ACCOUNT = required("BG_ACCOUNT");
const EXPECTED_RAW = required("BG_EXPECTED_RAW");
const TOKEN = required("BG_TOKEN");
const SCREENSHOT = required("BG_SCREENSHOT");
const openGraphiQL = (browser) => openPage(browser, BASE);
const QUERY = `{ account(address: "${ACCOUNT}") { balances { rawAmount token { symbol } } } }`;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
}

// Found (and, for the npm package's Chromium, unpacked) before the test's own timeout starts.
const { source, options } = await chromiumLaunchOptions();

/** The query editor's text on one line, as `print` would put it if lines were endless. */
const queryText = async (page) =>
  (await page.evaluate(() => document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.getValue()))
    .replace(/\s+/g, " ")
    .replace(/\( /g, "(")
    .replace(/ \)/g, ")");
/** Run the active tab and wait until the result shows `raw`. */
async function runUntilShown(page, raw, errors) {
  await page.click(".graphiql-execute-button");
  await page
    .waitForFunction(
      (expected) => document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue().includes(expected),
      raw,
      { timeout: 10_000 },
    )
    .catch(async (err) => {
      throw new Error(`${raw} never shown; result pane: ${await resultText(page)}; ${errors}`, { cause: err });
    });
  return JSON.parse(await resultText(page));
}

test("GraphiQL runs a query offline, from same-origin assets, under its CSP", { timeout: 30_000 }, async () => {
  console.log(`browser: ${source}`);
  const browser = await chromium.launch(options);
  try {
    const { page, errors, check } = await openGraphiQL(browser);
    // The page's JSON config reached GraphiQL: three example tabs, the headers editor, the explorer.
    assert.equal(await page.locator(".graphiql-tab").count(), 3);
    await page.waitForSelector(".bg-explorer [data-field='account']", { timeout: 10_000 });
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
    const result = await runUntilShown(page, EXPECTED_RAW, errors);
    assert.ok(!result.errors, JSON.stringify(result.errors));
    assert.ok(result.data.account.balances.some((b) => b.rawAmount === EXPECTED_RAW));

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await check();
  } finally {
    await browser.close();
  }
});

test("the explorer lists what a person asks for and builds a balances(pairs:) query", { timeout: 30_000 }, async () => {
  const browser = await chromium.launch(options);
  try {
    const { page, errors, check } = await openGraphiQL(browser);
    // Root fields: the explorer's top-level list; fields of a field: `> .bg-explorer-inner`.
    const root = page.locator(".bg-explorer > .bg-explorer-type");
    const explorer = page.locator(".bg-explorer");
    await root.locator("> [data-field='account']").waitFor({ timeout: 10_000 });
    const roots = await root.locator("> [data-field]").evaluateAll((nodes) =>
      nodes.map((n) => n.dataset.field),
    );
    assert.ok(["account", "accounts", "balance", "balances", "chains", "token"].every((f) => roots.includes(f)), `${roots}`);
    assert.ok(!roots.includes("_entities") && !roots.includes("_service"), `federation's fields listed: ${roots}`);

    // The example tab's pairs are shown as an editable list: one item, its fields filled in.
    await page.locator(".graphiql-tab").nth(1).click();
    const pairs = root.locator("> [data-field='balances'] [data-input='pairs']");
    await pairs.locator("[data-item='0'] [data-input='account'] input.bg-explorer-text").waitFor({ timeout: 5_000 });
    assert.equal(await pairs.locator("[data-item]").count(), 1);
    assert.equal(await pairs.locator("[data-item='0'] [data-input='token'] input.bg-explorer-text").inputValue(), "native");

    // From an empty editor: tick `balances`, fill in two pairs, tick `rawAmount`, run.
    await page.locator(".graphiql-tab").nth(0).click();
    await page.evaluate(() => document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(""));
    await root.locator("> [data-field='account'] > label input:not(:checked)").waitFor({ timeout: 5_000 });
    const balances = root.locator("> [data-field='balances']");
    await balances.locator("> label input[type=checkbox]").check();
    const item = (index, input) =>
      balances.locator(`[data-input='pairs'] [data-item='${index}'] [data-input='${input}'] input.bg-explorer-text`);
    await item(0, "account").fill(ACCOUNT);
    await item(0, "chain").fill("devnet");
    await item(0, "token").fill(TOKEN);
    await balances.locator("[data-input='pairs'] .bg-explorer-add").click();
    await item(1, "account").fill(ACCOUNT);
    await item(1, "chain").fill("devnet");
    await item(1, "token").fill("native");
    await balances.locator("> .bg-explorer-inner > .bg-explorer-type > [data-field='rawAmount'] > label input").check();
    const built = await queryText(page);
    const pair = (token) => `{account: "${ACCOUNT}", chain: "devnet", token: "${token}"}`;
    assert.ok(built.includes(`balances(pairs: [${pair(TOKEN)}, ${pair("native")}])`), built);
    assert.ok(/rawAmount/.test(built), built);

    await page.waitForSelector(".graphiql-tab-active >> text=<untitled>", { timeout: 5_000 });
    const result = await runUntilShown(page, EXPECTED_RAW, errors);
    assert.ok(!result.errors, JSON.stringify(result.errors));
    assert.equal(result.data.balances.length, 2);
    assert.equal(result.data.balances[0].rawAmount, EXPECTED_RAW);

    // "remove" takes an item out again.
    await balances.locator("[data-input='pairs'] [data-item='1'] .bg-explorer-remove").click();
    assert.ok((await queryText(page)).includes(`balances(pairs: [${pair(TOKEN)}])`));
    await check();
  } finally {
    await browser.close();
  }
});
