// Live balances in GraphiQL: a subscription typed in the editor shows the snapshot, then a
// transfer made on the chain, pushed over GraphiQL's own WebSocket client (graphql-ws).
//
// Run by tests/browser/test_graphiql_live.py, which starts the service and an anvil and sets:
//   BG_URL       the service's base URL
//   BG_ANVIL     the chain's JSON-RPC URL (this script sends the transfer itself)
//   BG_ACCOUNT   the watched account;  BG_SENDER  an account sending it USDC
//   BG_TOKEN     USDC's address;       BG_BEFORE  the account's raw USDC before
//   BG_SCREENSHOT where to save a PNG of GraphiQL showing the pushed change
import assert from "node:assert/strict";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { chromiumLaunchOptions } from "./chromium.mjs";
import { openGraphiQL, resultText } from "./page.mjs";

const env = (name) => {
  if (!process.env[name]) throw new Error(`set ${name}`);
  return process.env[name];
};
const [BASE, ANVIL, ACCOUNT, SENDER, TOKEN] = ["BG_URL", "BG_ANVIL", "BG_ACCOUNT", "BG_SENDER", "BG_TOKEN"].map(env);
const BEFORE = BigInt(env("BG_BEFORE"));
const AMOUNT = 4242n;
const SUBSCRIPTION = `subscription Live {
  balanceChanges(accounts: ["${ACCOUNT}"], chains: ["devnet"], tokens: ["${TOKEN}"]) {
    blockNumber previousRawAmount balance { rawAmount amount token { symbol } }
  }
}`;

const { options } = await chromiumLaunchOptions();

async function rpc(method, params) {
  const response = await fetch(ANVIL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** USDC `transfer(ACCOUNT, AMOUNT)` from SENDER (anvil's accounts are unlocked); its block. */
async function transfer() {
  const data = "0xa9059cbb" + ACCOUNT.slice(2).toLowerCase().padStart(64, "0") + AMOUNT.toString(16).padStart(64, "0");
  const hash = await rpc("eth_sendTransaction", [{ from: SENDER, to: TOKEN, data }]);
  for (let i = 0; i < 100; i++) {
    const receipt = await rpc("eth_getTransactionReceipt", [hash]);
    if (receipt) return BigInt(receipt.blockNumber);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the transfer was never mined");
}

async function shown(page, text, errors, timeout) {
  await page
    .waitForFunction((t) => document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue().includes(t), text, { timeout })
    .catch(async (err) => {
      throw new Error(`${text} never shown; result pane: ${await resultText(page)}; ${errors}`, { cause: err });
    });
  return JSON.parse(await resultText(page));
}

test("a GraphiQL subscription shows a transfer in the block that made it", { timeout: 60_000 }, async () => {
  const browser = await chromium.launch(options);
  try {
    const { page, errors, check } = await openGraphiQL(browser, BASE);
    await page.evaluate((query) => {
      document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(query);
    }, SUBSCRIPTION);
    await page.waitForSelector(".graphiql-tab-active >> text=Live", { timeout: 5_000 });
    await page.click(".graphiql-execute-button");
    const snapshot = await shown(page, `"rawAmount": "${BEFORE}"`, errors, 15_000);
    assert.equal(snapshot.data.balanceChanges.previousRawAmount, null);

    const block = await transfer();
    const started = Date.now();
    const after = BEFORE + AMOUNT;
    const pushed = await shown(page, `"rawAmount": "${after}"`, errors, 10_000);
    console.log(`pushed ${Date.now() - started} ms after the transfer was mined`);
    const change = pushed.data.balanceChanges;
    assert.equal(change.blockNumber, String(block)); // the transfer's own block
    assert.equal(change.previousRawAmount, String(BEFORE));
    assert.equal(change.balance.token.symbol, "USDC");
    assert.ok(!pushed.errors, JSON.stringify(pushed.errors));

    await page.screenshot({ path: env("BG_SCREENSHOT"), fullPage: true });
    await page.click(".graphiql-execute-button"); // stops the subscription
    await check();
  } finally {
    await browser.close();
  }
});
