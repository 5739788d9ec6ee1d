/* Renders GraphiQL with our explorer plugin (explorer.js; graph/pages/graphiql.py serves both).
 *
 * No inline script and no eval: the configuration comes from the page's
 * <script type="application/json" id="graphiql-config"> block, which browsers never
 * execute, so the page runs under `script-src 'self'`. Layout styles are set through the
 * CSSOM (element.style), which CSP does not restrict.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var root = document.getElementById("graphiql");
  document.body.style.margin = "0";
  root.style.height = "100vh";
  root.textContent = "";

  var explorer = BalanceGraphExplorer.explorerPlugin();
  var storage = window.localStorage;
  // GraphiQL re-opens `visiblePlugin` on every load; pass it only until the user has chosen.
  var chosen = storage.getItem("graphiql:visiblePlugin") !== null;
  restoreHeaders(storage);

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      // Subscriptions go over a WebSocket to the same endpoint (graphql-transport-ws, with the
      // graphql-ws client GraphiQL bundles); the headers editor is its connection_init payload.
      fetcher: GraphiQL.createFetcher({
        url: config.endpoint,
        subscriptionUrl: new URL(config.endpoint, location.href).href.replace(/^http/, "ws"),
      }),
      defaultTabs: config.tabs,
      defaultQuery: config.tabs[0].query,
      defaultHeaders: config.headers,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: "headers",
      plugins: [explorer],
      visiblePlugin: chosen ? undefined : explorer,
    })
  );

  /* GraphiQL 3.8 erases `graphiql:headers` while mounting with `shouldPersistHeaders`
   * (graphql/graphiql#3369), so the next load no longer recognises the active tab, opens a
   * blank one and loses the headers. Put back the active tab's headers before it mounts. */
  function restoreHeaders(storage) {
    try {
      var saved = JSON.parse(storage.getItem("graphiql:tabState"));
      var active = saved && saved.tabs[saved.activeTabIndex];
      if (active && active.headers) storage.setItem("graphiql:headers", active.headers);
    } catch (e) {
      /* no usable saved state: GraphiQL starts from the default tabs */
    }
  }
})();
