// Starts GraphiQL against this server's /graphql. Every script and style comes from this
// server (see VENDORED.md), so the page works on a machine with no internet access.
(function () {
  "use strict";
  const mount = document.getElementById("graphiql");
  const fetcher = GraphiQL.createFetcher({ url: mount.dataset.endpoint });
  const explorer = GraphiQLPluginExplorer.explorerPlugin();
  // The API wants a bearer token on every call; the headers pane opens with the
  // line to complete, and the token is not written to the browser's storage.
  const headers = JSON.stringify({ Authorization: "Bearer <paste a modeldesk token>" }, null, 2);
  const query = [
    "# Put your token in Headers (below), then press Run.",
    "{",
    "  llmProviders {",
    "    name",
    "    defaultModel { modelId }",
    "    models { modelId status isAvailable costInputPerMillion costOutputPerMillion }",
    "  }",
    "}",
    "",
  ].join("\n");
  ReactDOM.createRoot(mount).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultQuery: query,
      defaultHeaders: headers,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
})();
