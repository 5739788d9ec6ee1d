"""`GET /`: where things are. A browser gets a page of links (no script, a CSP that allows
none), anything else the same as a line of text, so `curl` at the root is pointed on too.

The pages are listed in `Index.pages`; a new page adds itself there.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Link:
    """One place on this service: its path and what it is."""

    path: str
    title: str


@dataclass
class Index:
    """The root page: GraphiQL first, then whatever else the service serves."""

    pages: list[Link] = field(
        default_factory=lambda: [
            Link("/graphql", "GraphQL API: GraphiQL in a browser, POST or GET for clients"),
            Link("/wallet", "the wallet page: what an address holds, by value, with a chart"),
            Link("/health/ready", "readiness: chains, key store and cache"),
            Link("/metrics", "Prometheus metrics"),
        ]
    )

    async def page(self, request: Request) -> Response:
        root = request.scope.get("root_path", "")
        headers = {"cache-control": "no-cache", "content-security-policy": CSP}
        if "text/html" not in request.headers.get("accept", ""):
            lines = [f"{root}{link.path}  {link.title}" for link in self.pages]
            return PlainTextResponse("balance-graph\n" + "\n".join(lines) + "\n", headers=headers)
        items = "\n".join(
            f'<li><a href="{html.escape(root + link.path)}">{html.escape(link.path)}</a> '
            f"{html.escape(link.title)}</li>"
            for link in self.pages
        )
        return HTMLResponse(_PAGE.format(items=items), headers=headers)


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>balance-graph</title>
<link rel="icon" href="data:,">
<style>body {{ font: 16px/1.5 system-ui, sans-serif; margin: 3rem auto; max-width: 40rem; }}</style>
</head>
<body>
<h1>balance-graph</h1>
<p>What a wallet holds, on which chains, worth how much.</p>
<ul>
{items}
</ul>
</body>
</html>
"""
