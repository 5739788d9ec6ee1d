"""Exceptions raised by the devnet helpers."""

from __future__ import annotations

from typing import Any


class DevnetError(Exception):
    """Base error for everything that goes wrong in the devnet tooling."""


class ToolNotFoundError(DevnetError):
    """A required external tool (node, solc, anvil) could not be found."""


class CompileError(DevnetError):
    """solc reported errors while compiling the devnet contracts."""


class RpcError(DevnetError):
    """A JSON-RPC call returned an error object."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        detail = f"{method} failed: [{code}] {message}"
        if data is not None:
            detail += f" (data: {data!r})"
        super().__init__(detail)
        self.method = method
        self.code = code
        self.rpc_message = message
        self.data = data
