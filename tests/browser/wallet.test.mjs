// The wallet page as a person meets it: headless Chromium, no network beyond the service.
//
// Run by tests/graph/test_demo.py, which starts `balance-graph demo` and a second service with
// a chain that cannot be reached, and sets:
//   BG_WALLET         the wallet URL the demo printed (its holder's page)
//   BG_ACCOUNT        that holder's address
//   BG_OTHER          another demo holder (other tokens)
//   BG_BROKEN_URL     the base URL of the service with a dead chain
//   BG_BROKEN_ACCOUNT an address that service reads
//   BG_BROKEN_CHAIN   the id of its dead chain
//   BG_SCREENSHOT     where to keep a full-page PNG of the demo wallet
import assert from "node:assert/strict";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { chromiumLaunchOptions } from "./chromium.mjs";
import { openIsolated } from "./page.mjs";

const WALLET = required("BG_WALLET");
const ACCOUNT = required("BG_ACCOUNT");
const OTHER = required("BG_OTHER");
const BROKEN_URL = required("BG_BROKEN_URL");
const BROKEN_ACCOUNT = required("BG_BROKEN_ACCOUNT");
const BROKEN_CHAIN = required("BG_BROKEN_CHAIN");
const SCREENSHOT = required("BG_SCREENSHOT");

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
}

const { options } = await chromiumLaunchOptions();

const openWallet = (browser, url, viewport) => openIsolated(browser, url, { viewport, images: true });

/** The holdings rows shown now: symbol, chain and USD value (null: unpriced). */
const shownRows = (page) =>
  page.$$eval("#holdings tbody tr", (rows) =>
    rows.map((row) => ({
      symbol: row.dataset.symbol,
      chain: row.dataset.chain,
      value: row.classList.contains("unpriced") ? null : Number(row.querySelector(".value").textContent.replace(/[$,]/g, "")),
    })),
  );
const position = (page) => page.textContent("#position");
/** Until the pager names another position than `before` (the new page's rows are in). */
const turned = (page, before) =>
  page.waitForFunction((was) => {
    const now = document.querySelector("#holdings:not([aria-busy]) #position");
    return now !== null && now.textContent !== was;
  }, before);

/** Every row, page by page with "Next", and the count the pager names. */
async function everyRow(page) {
  const rows = [...(await shownRows(page))];
  while (await page.isEnabled("#next")) {
    const before = await position(page);
    await page.click("#next");
    await turned(page, before);
    rows.push(...(await shownRows(page)));
  }
  const total = Number((await position(page)).split(" of ")[1]);
  return { rows, total };
}

test("the demo wallet: the total, rows by value a page at a time, a chart that moves, a token's history", { timeout: 60_000 }, async () => {
  const browser = await chromium.launch(options);
  try {
    const { page, blocked, check } = await openWallet(browser, `${WALLET}?rows=3`);
    await page.waitForSelector("#total");
    await page.waitForSelector("#holdings tbody tr");
    assert.match(await page.textContent("#total"), /^\$[\d,]+\.\d\d$/);
    // The demo leaves MKR unpriced on devnet-l2: the total says it is incomplete, in place.
    assert.match(await page.textContent("#incomplete"), /incomplete.*no USD price/);

    const first = await shownRows(page);
    assert.equal(first.length, 3);
    const { rows, total } = await everyRow(page);
    assert.equal(rows.length, total);
    assert.ok(total > 3, `only ${total} rows: nothing to page through`);
    const priced = rows.filter((r) => r.value !== null).map((r) => r.value);
    assert.deepEqual(priced, [...priced].sort((a, b) => b - a), "priced rows by value, largest first");
    const firstUnpriced = rows.findIndex((r) => r.value === null);
    assert.ok(firstUnpriced > 0 && rows.slice(firstUnpriced).every((r) => r.value === null), "unpriced rows last");
    assert.ok(await page.isVisible("#holdings tr.unpriced .badge"), "an unpriced row is marked");
    // A cursor names a position: "Previous" back to the start shows the first page again, on
    // the way passing devnet's USDC, which moved every day of the demo's week: its timeline.
    const usdc = page.locator("#holdings tr[data-symbol='USDC'][data-chain='devnet'] button.token");
    let opened = false;
    for (;;) {
      if (!opened && (await usdc.count())) {
        await usdc.click();
        await page.waitForSelector("#token-history ol.events li", { timeout: 20_000 });
        assert.ok((await page.locator("#token-history ol.events li").count()) >= 7);
        assert.equal(await page.evaluate(() => document.activeElement?.id), "close-history");
        await page.keyboard.press("Enter"); // the Close button, from the keyboard
        assert.ok(await page.isHidden("#token-history"));
        opened = true;
      }
      if (!(await page.isEnabled("#previous"))) break;
      const before = await position(page);
      await page.click("#previous");
      await turned(page, before);
    }
    assert.ok(opened, "devnet's USDC was on no page");
    assert.deepEqual(await shownRows(page), first);

    // The chart: the week the demo played moves the total. devnet-l2 began when the demo
    // started: before that nothing was held there (0, not an error), so the total is whole.
    await page.waitForSelector("#chart[data-points] canvas", { timeout: 20_000 });
    const chart = await page.$eval("#chart", (node) => ({ ...node.dataset }));
    assert.ok(Number(chart.points) >= 7, `chart points: ${chart.points}`);
    assert.ok(Number(chart.spread) > 0, "the chart is flat: the demo's week did not move it");
    assert.equal(await page.locator("#chart-section .errors").count(), 0, "the chart shows an error");
    // Day: an hourly chart, more points than the week's daily one; the pressed tab keeps focus.
    await page.click("[data-range='day']");
    await page.waitForFunction(
      (week) => Number(document.querySelector("#chart")?.dataset.points) > week,
      Number(chart.points),
      { timeout: 20_000 },
    );
    assert.equal(await page.getAttribute("[data-range='day']", "aria-pressed"), "true");
    assert.equal(await page.getAttribute("[data-range='week']", "aria-pressed"), "false");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.range), "day");

    // Each chain's share of the total: both demo chains, in percent, summing to 100.
    const shares = await page.$$eval("#chains .shares li:not(.failed) .share", (nodes) => nodes.map((n) => n.textContent));
    assert.equal(shares.length, 2, `shares: ${shares}`);
    assert.ok(shares.every((s) => /^\d+\.\d%$/.test(s)), `shares: ${shares}`);
    const sum = shares.reduce((total, s) => total + Number(s.slice(0, -1)), 0);
    assert.ok(Math.abs(sum - 100) <= 0.2, `shares sum to ${sum}`);
    // The 24h column: a change in USD and in percent for each priced row of the page.
    const changes = await page.$$eval("#holdings tbody tr:not(.unpriced) td:nth-child(5)", (cells) =>
      cells.map((c) => c.textContent),
    );
    assert.ok(changes.length >= 1);
    for (const text of changes) assert.match(text, /^[+−]?\$[\d,]+\.\d\d [+−]?\d+\.\d\d%$/);

    // Logos come from other hosts: blocked here, so each fell back to the token's initials.
    assert.ok(blocked.some((b) => b.type === "image"), "no logo was even asked for");
    assert.ok((await page.locator("#holdings .initials").count()) >= 3);

    await check();
    // The screenshot: the page as the demo prints it, ten rows a page.
    await page.goto(WALLET);
    await page.waitForSelector("#holdings tbody tr");
    await page.waitForSelector("#chart[data-points] canvas", { timeout: 20_000 });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await check();
  } finally {
    await browser.close();
  }
});

test("by keyboard alone, on a phone-width screen", { timeout: 60_000 }, async () => {
  const browser = await chromium.launch(options);
  try {
    const base = WALLET.slice(0, WALLET.lastIndexOf("/"));
    const { page, check } = await openWallet(browser, base, { width: 390, height: 844 });
    assert.equal(await page.evaluate(() => document.activeElement?.id), "address");
    await page.keyboard.type(ACCOUNT);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#holdings tbody tr");
    assert.equal(new URL(page.url()).pathname, new URL(WALLET).pathname);
    await page.locator("#holdings button.token").first().focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#token-history:not([hidden])");
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width}px wide on a 390px screen`);
    await check();
  } finally {
    await browser.close();
  }
});

test("a slow answer for the address before never lands over the one asked for now", { timeout: 60_000 }, async () => {
  const browser = await chromium.launch(options);
  try {
    const { page, check } = await openIsolated(browser, `${WALLET.slice(0, WALLET.lastIndexOf("/"))}`, { images: true });
    // The first holder's holdings answer late; the other holder's come at once.
    await page.route("**/graphql", async (route) => {
      const body = route.request().postData() || "";
      if (body.includes(ACCOUNT) && body.includes("WalletHoldings")) await new Promise((r) => setTimeout(r, 1_500));
      await route.continue();
    });
    const ask = async (address) => {
      await page.fill("#address", address);
      await page.press("#address", "Enter");
    };
    await ask(ACCOUNT);
    await ask(OTHER);
    await page.waitForSelector("#holdings tbody tr");
    const theirs = await shownRows(page);
    await page.waitForTimeout(2_000); // the first holder's late answer has arrived by now
    assert.deepEqual(await shownRows(page), theirs);
    assert.ok(!theirs.some((r) => r.symbol === "DGLD"), "the first holder's Demo Gold is shown");
    await check();
  } finally {
    await browser.close();
  }
});

test("a chain that cannot be read is named, and the others' rows are still shown", { timeout: 60_000 }, async () => {
  const browser = await chromium.launch(options);
  try {
    const { page, check } = await openWallet(browser, `${BROKEN_URL}/wallet/${BROKEN_ACCOUNT}`);
    await page.waitForSelector("#incomplete");
    assert.match(await page.textContent("#incomplete"), new RegExp(`chains that failed: ${BROKEN_CHAIN}`));
    assert.match(await page.textContent("#chains"), new RegExp(`${BROKEN_CHAIN} failed`));
    await page.waitForSelector("#holdings .errors");
    assert.match(await page.textContent("#holdings .errors"), new RegExp(`\\(${BROKEN_CHAIN}\\)`));
    assert.ok((await shownRows(page)).some((r) => r.chain === "devnet"), "devnet's rows are gone too");
    await check();
  } finally {
    await browser.close();
  }
});
