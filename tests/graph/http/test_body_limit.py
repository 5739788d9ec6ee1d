"""BodySizeLimit: a request body over the limit, declared or streamed, is refused with 413."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.http.body_limit import MAX_BODY_BYTES, BodySizeLimit
from tests.conftest import Api


def test_oversized_bodies_are_refused(api: Api) -> None:
    huge = api.client.post(
        "/graphql",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"


# --- the middleware alone, on raw ASGI messages --------------------------------------------


class Echo:
    """An ASGI app that reads the whole body and answers its length."""

    def __init__(self, respond_first: bool = False) -> None:
        self.called = False
        self.respond_first = respond_first

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        if self.respond_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        size, more = 0, True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        if not self.respond_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})


async def call(
    app: ASGIApp, chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None
) -> list[Message]:
    scope: Scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers or []}
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def refused_with_413(sent: list[Message], limit: int) -> bool:
    start, body = sent
    payload = json.loads(body["body"])
    assert payload["errors"][0]["message"] == f"request body exceeds {limit} bytes"
    assert payload["errors"][0]["extensions"] == {
        "code": "COST_LIMIT_EXCEEDED",
        "retryable": False,
    }
    assert (b"content-length", str(len(body["body"])).encode()) in start["headers"]
    return bool(start["status"] == 413)


async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    app = Echo()
    sent = await call(BodySizeLimit(app, max_bytes=10), [b"x" * 11], [(b"content-length", b"11")])
    assert refused_with_413(sent, 10) and not app.called


async def test_a_streamed_body_over_the_limit_is_refused() -> None:
    app = Echo()
    sent = await call(BodySizeLimit(app, max_bytes=10), [b"x" * 6, b"x" * 5])  # no length
    assert app.called and refused_with_413(sent, 10)


async def test_a_body_that_lies_about_its_length_is_counted_as_it_streams() -> None:
    sent = await call(BodySizeLimit(Echo(), max_bytes=10), [b"x" * 20], [(b"content-length", b"5")])
    assert refused_with_413(sent, 10)


async def test_bodies_up_to_the_limit_pass_untouched() -> None:
    sent = await call(BodySizeLimit(Echo(), max_bytes=10), [b"x" * 4, b"x" * 6])
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"10"


async def test_a_response_already_started_is_not_answered_twice() -> None:
    sent = await call(BodySizeLimit(Echo(respond_first=True), max_bytes=10), [b"x" * 6, b"x" * 6])
    assert [m["type"] for m in sent] == ["http.response.start"]  # no second start


async def test_the_default_limit_is_one_megabyte() -> None:
    assert MAX_BODY_BYTES == 1024 * 1024
    under = await call(BodySizeLimit(Echo()), [b"x" * MAX_BODY_BYTES])
    assert under[0]["status"] == 200
    over = await call(BodySizeLimit(Echo()), [b"x" * MAX_BODY_BYTES, b"x"])
    assert refused_with_413(over, MAX_BODY_BYTES)


async def test_other_protocols_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def nothing() -> Message:
        raise AssertionError("not read")

    async def ignore(message: Message) -> None:
        raise AssertionError("nothing sent")

    await BodySizeLimit(app, max_bytes=1)({"type": "lifespan"}, nothing, ignore)
    assert seen == ["lifespan"]
