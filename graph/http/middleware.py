"""ASGI middleware of our own, one layer on every request: the request id every response and
log line carries, and `X-Content-Type-Options: nosniff` on every response (no browser guesses
a JSON body's type)."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_NOSNIFF = (b"x-content-type-options", b"nosniff")


class ResponseHeadersMiddleware:
    """Gives every request an id (the caller's `X-Request-ID` if sane) and echoes it back, and
    adds `nosniff` to every HTTP response that does not already say it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.append((b"x-request-id", request_id.encode()))
                if not any(name.lower() == _NOSNIFF[0] for name, _ in headers):
                    headers.append(_NOSNIFF)
            await send(message)

        await self.app(scope, receive, send_with_headers)
