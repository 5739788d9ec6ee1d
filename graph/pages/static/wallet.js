/* The wallet page (graph/pages/wallet.py serves it): one address's holdings from the public
 * GraphQL API. No framework: the DOM is built with textContent (nothing the API or the URL
 * says is ever parsed as HTML), and the four operations below are the ones the README's
 * "For frontends" section recommends, word for word (tests/test_readme.py holds them equal). */
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("wallet-config").textContent);
  const KEY_STORAGE = "balance-graph:api-key";
  const RANGES = {
    day: { label: "Day", seconds: 86400, interval: "HOUR" },
    week: { label: "Week", seconds: 7 * 86400, interval: "DAY" },
    month: { label: "Month", seconds: 30 * 86400, interval: "DAY" },
  };
  const COLORS = ["#1b1f24", "#2f6feb", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e"];

  // -- the operations (README: "For frontends") -------------------------------------------
  const SUMMARY = `query WalletSummary($address: String!) {
  account(address: $address) {
    portfolio {
      totalUsd complete failedChains unpricedCount
      change24hUsd change24hPercent
      byChain { chain totalUsd }
    }
  }
}`;
  const HOLDINGS = `query WalletHoldings($address: String!, $first: Int!, $after: String) {
  account(address: $address) {
    balancesPage(orderBy: VALUE_USD_DESC, first: $first, after: $after, minValueUsd: "0") {
      totalCount
      pageInfo { hasNextPage endCursor }
      rows {
        chain amount valueUsd valueUsdChange24h
        token { address tokenId symbol name logo priceUsd priceChange24h }
      }
    }
  }
}`;
  const CHART = `query WalletChart($address: String!, $from: DateTime!, $to: DateTime!, $interval: HistoryInterval!) {
  account(address: $address) {
    portfolioHistory(from: $from, to: $to, interval: $interval) {
      at totalUsd complete
      byChain { chain totalUsd }
    }
  }
}`;
  const TOKEN_HISTORY = `query WalletTokenHistory($address: String!, $chain: String!, $token: String!, $after: String) {
  account(address: $address) {
    balanceHistory(chain: $chain, token: $token, first: 25, after: $after) {
      events { blockNumber timestamp delta balance transactionHash }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

  const state = { address: config.address || "", cursors: [null], page: 0, range: "week" };
  const root = document.getElementById("wallet");
  const asked = {}; // each section's latest question: an older answer that lands late is dropped

  /** Number this section's question; the returned check is false once a newer one was asked. */
  function ticket(section) {
    const number = (asked[section] = (asked[section] || 0) + 1);
    return () => asked[section] === number;
  }

  // -- DOM ---------------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** `node`'s children become `children`, leaving out the absent (null, undefined, false). */
  function fill(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
    return node;
  }

  const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 2 });
  const amounts = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 8 });
  // A price under a dollar keeps its small digits ($0.9998, not $1.00); others show cents.
  const cents = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2 });
  const small = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumSignificantDigits: 4 });
  const price = (text) => (text === null ? "—" : Number(text) < 1 ? small.format(Number(text)) : cents.format(Number(text)));

  function money(text) {
    return text === null || text === undefined ? "—" : usd.format(Number(text));
  }

  /** A signed change, green up and red down; unknown is a dash, never 0. */
  function signed(text, percent) {
    if (text === null || text === undefined) return el("span", { class: "muted", title: "unknown" }, "—");
    const value = Number(text);
    const size = percent ? `${Math.abs(value).toFixed(2)}%` : usd.format(Math.abs(value));
    const sign = value > 0 ? "+" : value < 0 ? "−" : "";
    return el("span", { class: value > 0 ? "up" : value < 0 ? "down" : "flat" }, sign + size);
  }

  // -- the API -------------------------------------------------------------------------------

  function apiKey() {
    const field = document.getElementById("api-key");
    return field ? field.value.trim() : "";
  }

  /** POST one operation; `{data, errors}` whatever happens (a network failure is an error too). */
  async function graphql(query, variables) {
    const headers = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
    };
    const key = apiKey();
    if (key) headers["x-api-key"] = key;
    let response;
    try {
      const body = JSON.stringify({ query, variables });
      response = await fetch(config.endpoint, { method: "POST", headers, body });
    } catch (error) {
      const message = `the service cannot be reached (${error.message})`;
      return { data: null, errors: [{ message, extensions: { code: "NETWORK" } }] };
    }
    try {
      const body = await response.json();
      return { data: body.data || null, errors: body.errors || [] };
    } catch {
      return { data: null, errors: [{ message: `HTTP ${response.status}`, extensions: { code: "HTTP" } }] };
    }
  }

  /** Errors where they apply: code, then the chain and token they concern, then the message. */
  function errorList(errors) {
    if (!errors.length) return null;
    const items = errors.map((error) => {
      const ext = error.extensions || {};
      const where = [ext.chain, ext.token].filter(Boolean).join(" · ");
      return el("li", {}, el("strong", {}, ext.code || "ERROR"), where ? ` (${where}) ` : " ", error.message);
    });
    return el("ul", { class: "errors", role: "alert" }, items);
  }

  // -- the page ------------------------------------------------------------------------------

  function form() {
    const saved = localStorage.getItem(KEY_STORAGE) || "";
    const address = el("input", {
      id: "address",
      name: "address",
      value: state.address,
      placeholder: "0x… or a Starknet / Bitcoin address",
      autocomplete: "off",
      spellcheck: "false",
      required: true,
    });
    const key = el("input", {
      id: "api-key",
      name: "api-key",
      type: "password",
      value: saved,
      placeholder: "bgk_… (optional)",
      autocomplete: "off",
    });
    const remember = el("input", { id: "remember", type: "checkbox", checked: saved ? "checked" : false });
    const submit = (event) => {
      event.preventDefault();
      if (remember.checked) localStorage.setItem(KEY_STORAGE, key.value.trim());
      else localStorage.removeItem(KEY_STORAGE);
      const next = address.value.trim();
      if (!next) return;
      history.pushState({}, "", `${config.base}/${encodeURIComponent(next)}${location.search}`);
      show(next);
    };
    return el(
      "form",
      { class: "lookup", onsubmit: submit },
      el("label", { for: "address" }, "Address"),
      address,
      el("label", { for: "api-key" }, "API key"),
      key,
      el("label", { class: "inline" }, remember, " remember the key in this browser"),
      el("button", { type: "submit" }, "Show"),
    );
  }

  function layout() {
    root.replaceChildren(
      el("header", {}, el("h1", {}, "balance-graph wallet"), form()),
      el("section", { id: "summary", "aria-label": "Total" }),
      el("section", { id: "chart-section", "aria-label": "Value over time" }),
      el("section", { id: "chains", "aria-label": "Per chain" }),
      el("section", { id: "holdings", "aria-label": "Holdings" }),
      el("section", { id: "token-history", "aria-label": "Token history", hidden: true }),
    );
  }

  async function show(address) {
    Object.assign(state, { address, cursors: [null], page: 0 });
    ticket("history"); // an open token's late history belongs to the address before
    document.getElementById("token-history").hidden = true;
    document.title = `${address} · balance-graph wallet`;
    await Promise.all([summary(), holdings(), chart()]);
  }

  // -- the total and each chain's share ------------------------------------------------------

  async function summary() {
    const section = document.getElementById("summary");
    const fresh = ticket("summary");
    section.replaceChildren(el("p", { class: "muted" }, "Reading the total…"));
    const { data, errors } = await graphql(SUMMARY, { address: state.address });
    if (!fresh()) return;
    const portfolio = data && data.account ? data.account.portfolio : null;
    if (!portfolio) {
      section.replaceChildren(errorList(errors) || el("p", {}, "No such wallet."));
      document.getElementById("chains").replaceChildren();
      return;
    }
    const notes = [];
    if (!portfolio.complete) notes.push("This total is incomplete");
    if (portfolio.failedChains.length) notes.push(`chains that failed: ${portfolio.failedChains.join(", ")}`);
    if (portfolio.unpricedCount) notes.push(`${portfolio.unpricedCount} held token(s) have no USD price`);
    const change = el(
      "p",
      { class: "change" },
      "24h: ",
      signed(portfolio.change24hUsd),
      " ",
      signed(portfolio.change24hPercent, true),
    );
    fill(
      section,
      el("p", { class: "total" }, el("span", { id: "total" }, money(portfolio.totalUsd))),
      change,
      notes.length ? el("p", { class: "incomplete", id: "incomplete" }, notes.join("; ") + ".") : null,
      errorList(errors),
    );
    shares(portfolio);
  }

  function shares(portfolio) {
    const known = portfolio.byChain.filter((part) => part.totalUsd !== null);
    const total = known.reduce((sum, part) => sum + Number(part.totalUsd), 0);
    const rows = portfolio.byChain.map((part) => {
      if (part.totalUsd === null) {
        return el("li", { class: "unknown" }, el("span", { class: "chain" }, part.chain), " value unknown");
      }
      const share = total > 0 ? (100 * Number(part.totalUsd)) / total : 0;
      const bar = el("span", { class: "bar" });
      bar.style.width = `${share.toFixed(1)}%`; // CSSOM, not a style attribute: the CSP allows it
      return el(
        "li",
        {},
        el("span", { class: "chain" }, part.chain),
        el("span", { class: "track" }, bar),
        el("span", { class: "share" }, `${share.toFixed(1)}%`),
        el("span", { class: "value" }, money(part.totalUsd)),
      );
    });
    const failed = portfolio.failedChains.map((chain) =>
      el("li", { class: "failed" }, el("span", { class: "chain" }, chain), " failed: its rows are missing"),
    );
    document.getElementById("chains").replaceChildren(el("h2", {}, "Chains"), el("ul", { class: "shares" }, rows, failed));
  }

  // -- holdings, a page at a time ------------------------------------------------------------

  async function holdings() {
    const section = document.getElementById("holdings");
    const heading = el("h2", {}, "Holdings");
    const fresh = ticket("holdings");
    if (section.querySelector("table")) {
      section.setAttribute("aria-busy", "true"); // a page turn: the rows stay until the next come
      section.querySelectorAll(".pager button").forEach((button) => (button.disabled = true));
    } else {
      section.replaceChildren(heading, el("p", { class: "muted" }, "Reading balances…"));
    }
    const after = state.cursors[state.page];
    const variables = { address: state.address, first: config.pageRows, after };
    const { data, errors } = await graphql(HOLDINGS, variables);
    if (!fresh()) return;
    const page = data && data.account ? data.account.balancesPage : null;
    section.removeAttribute("aria-busy");
    if (!page) {
      section.replaceChildren(heading, errorList(errors) || el("p", {}, "Nothing to show."));
      return;
    }
    if (page.pageInfo.endCursor) state.cursors[state.page + 1] = page.pageInfo.endCursor;
    const first = state.page * config.pageRows;
    const columns = ["Token", "Amount", "Price", "Value", "24h"];
    const table = el(
      "table",
      { class: "rows" },
      el("thead", {}, el("tr", {}, columns.map((name, i) => el("th", { scope: "col", class: i ? "num" : "" }, name)))),
      el("tbody", {}, page.rows.map(row)),
    );
    const position = page.rows.length
      ? `${first + 1}–${first + page.rows.length} of ${page.totalCount}`
      : `0 of ${page.totalCount}`;
    const nav = el(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      el("button", { type: "button", id: "previous", disabled: state.page === 0, onclick: () => turn(-1) }, "← Previous"),
      el("span", { id: "position" }, position),
      el("button", { type: "button", id: "next", disabled: !page.pageInfo.hasNextPage, onclick: () => turn(1) }, "Next →"),
    );
    fill(section, heading, errorList(errors), el("div", { class: "scroll" }, table), nav);
  }

  async function turn(step) {
    state.page = Math.max(0, state.page + step);
    await holdings();
    document.getElementById(step > 0 ? "next" : "previous")?.focus(); // gone if a newer address was asked
  }

  function logo(token) {
    const initials = el("span", { class: "initials", "aria-hidden": "true" }, (token.symbol || "?").slice(0, 3));
    if (!token.logo) return initials;
    const image = el("img", {
      src: token.logo,
      alt: "",
      width: 24,
      height: 24,
      loading: "lazy",
      referrerpolicy: "no-referrer",
    });
    image.addEventListener("error", () => image.replaceWith(initials));
    return image;
  }

  function row(balance) {
    const token = balance.token;
    const name = token.tokenId ? `${token.symbol || "?"} #${token.tokenId}` : token.symbol || token.address;
    const open = el(
      "button",
      { type: "button", class: "token", title: `${token.name || name} on ${balance.chain}: its history` },
      logo(token),
      el("span", {}, name),
      el("small", {}, balance.chain),
    );
    open.addEventListener("click", () => tokenHistory(balance));
    const unpriced = balance.valueUsd === null;
    const amount = balance.amount === null ? "—" : amounts.format(Number(balance.amount));
    return el(
      "tr",
      { class: unpriced ? "unpriced" : "", "data-chain": balance.chain, "data-symbol": token.symbol || "" },
      el("td", {}, open),
      el("td", { class: "num", title: balance.amount === null ? "decimals unknown" : balance.amount }, amount),
      el("td", { class: "num" }, price(token.priceUsd)),
      el("td", { class: "num value" }, unpriced ? el("span", { class: "badge" }, "unpriced") : money(balance.valueUsd)),
      el("td", { class: "num" }, signed(balance.valueUsdChange24h), " ", signed(token.priceChange24h, true)),
    );
  }

  // -- one token's timeline --------------------------------------------------------------------

  async function tokenHistory(balance, after = null) {
    const section = document.getElementById("token-history");
    const fresh = ticket("history");
    const token = balance.token.tokenId ? `${balance.token.address}:${balance.token.tokenId}` : balance.token.address;
    const title = el("h2", {}, `${balance.token.symbol || token} on ${balance.chain}: balance history (raw amounts)`);
    section.hidden = false;
    if (!after) section.replaceChildren(title, el("p", { class: "muted" }, "Reading its history…"));
    const variables = { address: state.address, chain: balance.chain, token, after };
    const { data, errors } = await graphql(TOKEN_HISTORY, variables);
    if (!fresh()) return;
    const history = data && data.account ? data.account.balanceHistory : null;
    const events = history ? history.events : [];
    const items = events.map((event) =>
      el(
        "li",
        {},
        el("time", { datetime: event.timestamp }, new Date(event.timestamp).toLocaleString()),
        ` block ${event.blockNumber}: `,
        el("span", { class: event.delta.startsWith("-") ? "down" : "up" }, event.delta),
        ` → ${event.balance}`,
      ),
    );
    let list = section.querySelector("ol.events");
    if (!after || !list) {
      list = el("ol", { class: "events" });
      const close = el("button", { type: "button", id: "close-history" }, "Close");
      close.addEventListener("click", () => {
        section.hidden = true;
      });
      section.replaceChildren(title, el("div", { class: "history-errors" }), list, el("p", { class: "more" }), close);
      close.focus();
    }
    list.append(...items);
    if (!list.children.length && !errors.length) list.replaceWith(el("p", { class: "muted" }, "No events."));
    fill(section.querySelector(".history-errors"), errorList(errors));
    const more = section.querySelector("p.more");
    more.replaceChildren();
    if (history && history.pageInfo.hasNextPage) {
      const next = el("button", { type: "button" }, "Older events →");
      next.addEventListener("click", () => tokenHistory(balance, history.pageInfo.endCursor));
      more.append(next);
    }
  }

  // -- the chart ----------------------------------------------------------------------------------

  async function chart() {
    const section = document.getElementById("chart-section");
    const tabs = el(
      "div",
      { class: "ranges", role: "group", "aria-label": "Range" },
      Object.entries(RANGES).map(([name, range]) => {
        const pick = () => {
          state.range = name;
          chart().then(() => section.querySelector(`[data-range="${name}"]`).focus());
        };
        const pressed = String(name === state.range);
        return el("button", { type: "button", "aria-pressed": pressed, "data-range": name, onclick: pick }, range.label);
      }),
    );
    const fresh = ticket("chart");
    const holder = el("div", { id: "chart", class: "chart" }, el("p", { class: "muted" }, "Reading the past…"));
    section.replaceChildren(el("h2", {}, "Value over time"), tabs, holder);
    const range = RANGES[state.range];
    const to = new Date(Math.floor(Date.now() / 60000) * 60000 - 60000); // a whole minute: cacheable
    const from = new Date(to.getTime() - range.seconds * 1000);
    const variables = { address: state.address, from: from.toISOString(), to: to.toISOString(), interval: range.interval };
    const { data, errors } = await graphql(CHART, variables);
    if (!fresh()) return;
    const points = data && data.account ? data.account.portfolioHistory : [];
    draw(section, holder, points);
    const problems = errorList(errors);
    if (problems) section.append(problems);
  }

  /** The total where it is known, and each chain's own line: a chain that cannot be read (or a
   * token without a price) leaves gaps in its line and in the total, never zeros. */
  function draw(section, holder, points) {
    const chains = [...new Set(points.flatMap((p) => p.byChain.map((part) => part.chain)))];
    const xs = points.map((p) => Math.floor(new Date(p.at).getTime() / 1000));
    const value = (text) => (text === null || text === undefined ? null : Number(text));
    const lines = [
      { label: "Total", ys: points.map((p) => value(p.totalUsd)) },
      ...chains.map((chain) => ({
        label: chain,
        ys: points.map((p) => value((p.byChain.find((part) => part.chain === chain) || {}).totalUsd)),
      })),
    ].filter((line) => line.ys.some((y) => y !== null));
    const known = lines.reduce((count, line) => count + line.ys.filter((y) => y !== null).length, 0);
    holder.dataset.points = String(known);
    const first = lines.length ? lines[0].ys.filter((y) => y !== null) : [];
    holder.dataset.spread = first.length ? String(Math.max(...first) - Math.min(...first)) : "0";
    if (!known) {
      holder.replaceChildren(el("p", { class: "muted" }, "No point of this range is known."));
      return;
    }
    holder.replaceChildren();
    if (points.some((p) => !p.complete)) {
      const note = "Where a chain could not be read, or a token had no price, the total is a gap, not a zero; each chain's line is drawn where it is known.";
      section.append(el("p", { class: "incomplete" }, note));
    }
    const width = Math.max(280, Math.min(holder.clientWidth || 720, 960));
    const series = [
      {},
      ...lines.map((line, i) => ({
        label: line.label,
        stroke: COLORS[i % COLORS.length],
        width: i === 0 ? 2.5 : 1.5,
        value: (u, v) => (v === null ? "—" : usd.format(v)),
      })),
    ];
    const whole = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
    const axes = [{}, { size: 100, values: (u, splits) => splits.map((v) => whole.format(v)) }];
    new uPlot({ width, height: 240, series, axes }, [xs, ...lines.map((line) => line.ys)], holder);
  }

  layout();
  window.addEventListener("popstate", () => {
    const last = location.pathname.split("/").pop();
    const address = decodeURIComponent(last || "");
    if (address && address !== "wallet") {
      document.getElementById("address").value = address;
      show(address);
    }
  });
  if (state.address) show(state.address);
  else document.getElementById("address").focus();
})();
