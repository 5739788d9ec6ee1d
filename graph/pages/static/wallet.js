/* The wallet page (graph/pages/wallet.py serves it): one address's holdings from the public
 * GraphQL API. No framework: the DOM is built with textContent (nothing the API or the URL
 * says is ever parsed as HTML), and every operation below is one the README recommends to
 * frontends, word for word. */
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("wallet-config").textContent);
  const KEY_STORAGE = "balance-graph:api-key";
  const PAGE_SIZE = 10;
  const RANGES = {
    day: { label: "Day", seconds: 86400, interval: "HOUR" },
    week: { label: "Week", seconds: 7 * 86400, interval: "DAY" },
    month: { label: "Month", seconds: 30 * 86400, interval: "DAY" },
  };

  const SUMMARY = `query WalletSummary($address: String!) {
  account(address: $address) {
    address
    portfolio {
      totalUsd complete failedChains unpricedCount updatedAt
      change24hUsd change24hPercent
      byChain { chain totalUsd }
    }
  }
}`;
  const HOLDINGS = `query WalletHoldings($address: String!, $first: Int!, $after: String) {
  account(address: $address) {
    balancesPage(orderBy: VALUE_USD_DESC, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      rows {
        chain amount valueUsd valueUsdChange24h
        token { address tokenId symbol name logo standard priceUsd priceChange24h }
      }
    }
  }
}`;
  const CHART = `query WalletChart($address: String!, $from: DateTime!, $to: DateTime!, $interval: HistoryInterval!) {
  account(address: $address) {
    portfolioHistory(from: $from, to: $to, interval: $interval) { at totalUsd complete }
  }
}`;
  const TOKEN_HISTORY = `query WalletTokenHistory($address: String!, $chain: String!, $token: String!) {
  account(address: $address) {
    balanceHistory(chain: $chain, token: $token, first: 25) {
      events { blockNumber timestamp delta balance transactionHash }
    }
  }
}`;

  const state = { address: config.address || "", cursors: [null], page: 0, range: "week" };
  const root = document.getElementById("wallet");

  // -- small DOM helpers ------------------------------------------------------------------

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

  const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 2 });
  const amountFormat = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 8 });

  function money(text) {
    return text === null || text === undefined ? "—" : usd.format(Number(text));
  }
  function signed(text, suffix) {
    if (text === null || text === undefined) return el("span", { class: "muted", title: "unknown" }, "—");
    const value = Number(text);
    const shown = suffix === "%" ? `${value.toFixed(2)}%` : usd.format(Math.abs(value));
    const sign = value > 0 ? "+" : value < 0 ? "−" : "";
    return el("span", { class: value > 0 ? "up" : value < 0 ? "down" : "flat" }, sign + shown.replace("-", ""));
  }

  // -- the API --------------------------------------------------------------------------------

  function apiKey() {
    const field = document.getElementById("api-key");
    return field ? field.value.trim() : localStorage.getItem(KEY_STORAGE) || "";
  }

  async function graphql(query, variables) {
    const headers = { "content-type": "application/json", accept: "application/graphql-response+json, application/json" };
    const key = apiKey();
    if (key) headers["x-api-key"] = key;
    let response;
    try {
      response = await fetch(config.endpoint, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    } catch (error) {
      return { data: null, errors: [{ message: `the service cannot be reached (${error.message})`, extensions: { code: "NETWORK" } }] };
    }
    let body;
    try {
      body = await response.json();
    } catch (error) {
      body = { errors: [{ message: `HTTP ${response.status}`, extensions: { code: "HTTP" } }] };
    }
    return { data: body.data || null, errors: body.errors || [] };
  }

  function errorList(errors) {
    if (!errors.length) return null;
    return el(
      "ul",
      { class: "errors", role: "alert" },
      errors.map((error) => {
        const ext = error.extensions || {};
        const where = [ext.chain, ext.token].filter(Boolean).join(" · ");
        return el("li", {}, el("strong", {}, ext.code || "ERROR"), where ? ` (${where}) ` : " ", error.message);
      }),
    );
  }

  // -- the page ------------------------------------------------------------------------------

  function form() {
    const saved = localStorage.getItem(KEY_STORAGE) || "";
    const address = el("input", { id: "address", name: "address", value: state.address, placeholder: "0x… or a Starknet / Bitcoin address", autocomplete: "off", spellcheck: "false", required: true });
    const key = el("input", { id: "api-key", name: "api-key", type: "password", value: saved, placeholder: "bgk_… (optional)", autocomplete: "off" });
    const remember = el("input", { id: "remember", type: "checkbox", checked: saved ? "checked" : false });
    return el(
      "form",
      {
        class: "lookup",
        onsubmit: (event) => {
          event.preventDefault();
          if (remember.checked) localStorage.setItem(KEY_STORAGE, key.value.trim());
          else localStorage.removeItem(KEY_STORAGE);
          const next = address.value.trim();
          if (next) {
            history.pushState({}, "", `${config.base}/${encodeURIComponent(next)}`);
            show(next);
          }
        },
      },
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
    state.address = address;
    state.cursors = [null];
    state.page = 0;
    document.getElementById("token-history").hidden = true;
    document.title = `${address} · balance-graph wallet`;
    await Promise.all([summary(), holdings(), chart()]);
  }

  async function summary() {
    const section = document.getElementById("summary");
    section.replaceChildren(el("p", { class: "muted" }, "Reading the total…"));
    const { data, errors } = await graphql(SUMMARY, { address: state.address });
    const portfolio = data && data.account ? data.account.portfolio : null;
    if (!portfolio) {
      section.replaceChildren(errorList(errors) || el("p", {}, "No such wallet."));
      return;
    }
    const notes = [];
    if (!portfolio.complete) notes.push("This total is incomplete");
    if (portfolio.failedChains.length) notes.push(`chains that failed: ${portfolio.failedChains.join(", ")}`);
    if (portfolio.unpricedCount) notes.push(`${portfolio.unpricedCount} held token(s) have no USD price`);
    section.replaceChildren(
      el("p", { class: "total" }, el("span", { id: "total" }, money(portfolio.totalUsd))),
      el("p", { class: "change" }, "24h: ", signed(portfolio.change24hUsd), " ", signed(portfolio.change24hPercent, "%")),
      notes.length ? el("p", { class: "incomplete", id: "incomplete" }, notes.join("; ") + ".") : null,
      errorList(errors),
    );
    chains(portfolio);
  }

  function chains(portfolio) {
    const section = document.getElementById("chains");
    const total = Number(portfolio.totalUsd || 0);
    const rows = portfolio.byChain.map((part) => {
      const share = total > 0 ? (100 * Number(part.totalUsd)) / total : 0;
      const bar = el("span", { class: "bar" });
      bar.style.width = `${share.toFixed(1)}%`;
      return el("li", {}, el("span", { class: "chain" }, part.chain), el("span", { class: "track" }, bar), el("span", { class: "share" }, `${share.toFixed(1)}%`), el("span", { class: "value" }, money(part.totalUsd)));
    });
    const failed = portfolio.failedChains.map((chain) => el("li", { class: "failed" }, el("span", { class: "chain" }, chain), " failed: its rows are missing"));
    section.replaceChildren(el("h2", {}, "Chains"), el("ul", { class: "shares" }, rows, failed));
  }

  async function holdings() {
    const section = document.getElementById("holdings");
    section.replaceChildren(el("h2", {}, "Holdings"), el("p", { class: "muted" }, "Reading balances…"));
    const after = state.cursors[state.page];
    const { data, errors } = await graphql(HOLDINGS, { address: state.address, first: PAGE_SIZE, after });
    const page = data && data.account ? data.account.balancesPage : null;
    if (!page) {
      section.replaceChildren(el("h2", {}, "Holdings"), errorList(errors) || el("p", {}, "Nothing to show."));
      return;
    }
    if (page.pageInfo.endCursor) state.cursors[state.page + 1] = page.pageInfo.endCursor;
    const first = state.page * PAGE_SIZE;
    const table = el(
      "table",
      { class: "rows" },
      el("thead", {}, el("tr", {}, ["Token", "Amount", "Price", "Value", "24h"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, page.rows.map(row)),
    );
    const nav = el(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      el("button", { type: "button", id: "previous", disabled: state.page === 0, onclick: () => turn(-1) }, "← Previous"),
      el("span", { id: "position" }, page.rows.length ? `${first + 1}–${first + page.rows.length} of ${page.totalCount}` : `0 of ${page.totalCount}`),
      el("button", { type: "button", id: "next", disabled: !page.pageInfo.hasNextPage, onclick: () => turn(1) }, "Next →"),
    );
    section.replaceChildren(el("h2", {}, "Holdings"), errorList(errors), table, nav);
  }

  function turn(step) {
    state.page = Math.max(0, state.page + step);
    holdings();
  }

  function logo(token) {
    const initials = el("span", { class: "initials", "aria-hidden": "true" }, (token.symbol || "?").slice(0, 3));
    if (!token.logo) return initials;
    const image = el("img", { src: token.logo, alt: "", width: 24, height: 24, loading: "lazy", referrerpolicy: "no-referrer" });
    image.addEventListener("error", () => image.replaceWith(initials));
    return image;
  }

  function row(balance) {
    const token = balance.token;
    const name = token.tokenId ? `${token.symbol || "?"} #${token.tokenId}` : token.symbol || token.address;
    const open = el("button", { type: "button", class: "token", title: `${token.name || ""} on ${balance.chain}`, onclick: () => tokenHistory(balance) }, logo(token), el("span", {}, name), el("small", {}, balance.chain));
    const unpriced = balance.valueUsd === null;
    return el(
      "tr",
      { class: unpriced ? "unpriced" : "" },
      el("td", {}, open),
      el("td", { class: "num", title: balance.amount === null ? "decimals unknown" : balance.amount }, balance.amount === null ? "—" : amountFormat.format(Number(balance.amount))),
      el("td", { class: "num" }, money(token.priceUsd)),
      el("td", { class: "num" }, unpriced ? el("span", { class: "badge" }, "unpriced") : money(balance.valueUsd)),
      el("td", { class: "num" }, signed(balance.valueUsdChange24h), " ", signed(token.priceChange24h, "%")),
    );
  }

  async function tokenHistory(balance) {
    const section = document.getElementById("token-history");
    const token = balance.token.tokenId ? `${balance.token.address}:${balance.token.tokenId}` : balance.token.address;
    section.hidden = false;
    section.replaceChildren(el("h2", {}, `${balance.token.symbol || token} on ${balance.chain}`), el("p", { class: "muted" }, "Reading its history…"));
    const { data, errors } = await graphql(TOKEN_HISTORY, { address: state.address, chain: balance.chain, token });
    const events = data && data.account ? data.account.balanceHistory.events : [];
    const list = events.length
      ? el(
          "ol",
          { class: "events" },
          events.map((event) =>
            el("li", {}, el("time", { datetime: event.timestamp }, new Date(event.timestamp).toLocaleString()), ` block ${event.blockNumber}: `, el("span", { class: event.delta.startsWith("-") ? "down" : "up" }, event.delta), ` → ${event.balance}`),
          ),
        )
      : el("p", { class: "muted" }, "No events to show.");
    const close = el("button", { type: "button", onclick: () => { section.hidden = true; } }, "Close");
    section.replaceChildren(el("h2", {}, `${balance.token.symbol || token} on ${balance.chain} (raw amounts)`), errorList(errors), list, close);
    close.focus();
  }

  async function chart() {
    const section = document.getElementById("chart-section");
    const tabs = el(
      "div",
      { class: "ranges", role: "group", "aria-label": "Range" },
      Object.entries(RANGES).map(([name, range]) =>
        el("button", { type: "button", "aria-pressed": String(name === state.range), "data-range": name, onclick: () => { state.range = name; chart(); } }, range.label),
      ),
    );
    const holder = el("div", { id: "chart", class: "chart" });
    section.replaceChildren(el("h2", {}, "Value over time"), tabs, holder);
    const range = RANGES[state.range];
    const to = new Date(Math.floor(Date.now() / 1000) * 1000 - 60000);
    const from = new Date(to.getTime() - range.seconds * 1000);
    const { data, errors } = await graphql(CHART, { address: state.address, from: from.toISOString(), to: to.toISOString(), interval: range.interval });
    const points = data && data.account ? data.account.portfolioHistory : [];
    section.append(errorList(errors) || "");
    if (!points.length) {
      holder.replaceChildren(el("p", { class: "muted" }, "No points to draw."));
      return;
    }
    const xs = points.map((p) => Math.floor(new Date(p.at).getTime() / 1000));
    const ys = points.map((p) => (p.totalUsd === null ? null : Number(p.totalUsd)));
    holder.dataset.points = String(ys.filter((y) => y !== null).length);
    if (ys.some((y) => y === null)) section.append(el("p", { class: "incomplete" }, "Some points are unknown (a chain or a price was missing then): they are gaps, not zeros."));
    const width = Math.max(280, Math.min(holder.clientWidth || 720, 960));
    // eslint-disable-next-line no-new
    new uPlot(
      {
        width,
        height: 220,
        series: [{}, { label: "USD", stroke: "#2f6feb", width: 2, fill: "rgba(47,111,235,0.08)", value: (u, v) => (v === null ? "—" : usd.format(v)) }],
        axes: [{}, { values: (u, splits) => splits.map((v) => usd.format(v)) , size: 80 }],
        legend: { show: true },
      },
      [xs, ys],
      holder,
    );
  }

  layout();
  window.addEventListener("popstate", () => {
    const parts = location.pathname.split("/");
    const address = decodeURIComponent(parts[parts.length - 1] || "");
    if (address && address !== "wallet") {
      document.getElementById("address").value = address;
      show(address);
    }
  });
  if (state.address) show(state.address);
  else document.getElementById("address").focus();
})();
