"""Token names and symbols read from contracts: untrusted bytes, shown only if clean text."""

from __future__ import annotations


def printable(raw: bytes) -> str | None:
    """UTF-8 text without control characters (padding NULs and spaces trimmed), else `None`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = text.strip("\0").strip()
    if not text or any(not ch.isprintable() for ch in text):
        return None
    return text


def excerpt(text: str, limit: int = 48) -> str:
    """`text` as an error message shows user input: quoted, and cut after `limit` characters
    (a 1 MB "address" must not come back 1 MB long, let alone once per alias)."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"… ({len(text)} characters)"
