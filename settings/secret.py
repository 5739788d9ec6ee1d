"""A string that may hold credentials, and never prints itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema


@dataclass(frozen=True)
class Secret:
    """A string that may hold credentials (RPC URLs with keys, Redis passwords).

    It never prints itself: `repr`, `str` and f-strings show only a redacted label.
    """

    value: str = field(repr=False)

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"Secret({self.label!r})"

    @property
    def label(self) -> str:
        """Scheme and host only: enough to tell endpoints apart in logs, no path or query."""
        parts = urlsplit(self.value)
        host = parts.hostname or "?"
        return f"{parts.scheme}://{host}/…" if parts.scheme else "…"

    @property
    def scheme(self) -> str:
        return urlsplit(self.value).scheme

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validated from a plain string; the input never appears in a validation error."""
        return core_schema.no_info_plain_validator_function(_from_input)


def _from_input(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return Secret(value.strip())
