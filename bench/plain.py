"""The baseline of `bench.warm`: a plain Starlette route on the same uvicorn, no GraphQL.

`POST /<name>` reads and parses the request's JSON body, as any JSON API must, then answers
the document `<name>` of the file named by `$BENCH_PLAIN_DOCUMENTS` (a JSON object of
documents), serialized per request with Starlette's `JSONResponse`. The benchmark fills that
file with the service's own answers, so both sides send the same bytes.

    BENCH_PLAIN_DOCUMENTS=docs.json uvicorn bench.plain:app
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DOCUMENTS_ENV = "BENCH_PLAIN_DOCUMENTS"


def create_app() -> Starlette:
    documents: dict[str, Any] = json.loads(Path(os.environ[DOCUMENTS_ENV]).read_text("utf-8"))

    async def answer(request: Request) -> Response:
        await request.json()
        return JSONResponse(documents[request.path_params["name"]])

    async def live(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/health/live", live, methods=["GET"]),
            Route("/{name}", answer, methods=["POST"]),
        ]
    )
