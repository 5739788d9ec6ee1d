"""ABI helpers for human-readable function signatures such as ``mint(address,uint256)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from devnet.errors import DevnetError

if TYPE_CHECKING:
    from collections.abc import Sequence


def split_types(type_list: str) -> list[str]:
    """Split a comma-separated ABI type list at top level: ``"(a,b)[],c"`` -> two types."""
    types: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(type_list):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise DevnetError(f"unbalanced parentheses in {type_list!r}")
        elif char == "," and depth == 0:
            types.append(type_list[start:index].strip())
            start = index + 1
    if depth != 0:
        raise DevnetError(f"unbalanced parentheses in {type_list!r}")
    tail = type_list[start:].strip()
    if tail or types:
        types.append(tail)
    if any(not t for t in types):
        raise DevnetError(f"empty type in {type_list!r}")
    return types


def parse_signature(signature: str) -> tuple[str, list[str]]:
    """Split ``name(t1,t2)`` into its name and argument types (whitespace removed)."""
    compact = "".join(signature.split())
    open_index = compact.find("(")
    if open_index <= 0 or not compact.endswith(")"):
        raise DevnetError(f"not a function signature: {signature!r}")
    return compact[:open_index], split_types(compact[open_index + 1 : -1])


def canonical_signature(signature: str) -> str:
    """Return the signature without whitespace, as hashed for the selector."""
    name, types = parse_signature(signature)
    return f"{name}({','.join(types)})"


def function_selector(signature: str) -> bytes:
    """The 4-byte selector of a function signature."""
    return keccak(text=canonical_signature(signature))[:4]


def encode_call(signature: str, *args: Any) -> bytes:
    """Calldata for calling ``signature`` with ``args`` (types taken from the signature)."""
    _, types = parse_signature(signature)
    if len(types) != len(args):
        raise DevnetError(f"{signature} takes {len(types)} argument(s), got {len(args)}")
    return function_selector(signature) + encode(types, list(args))


def decode_result(types: Sequence[str], data: bytes) -> tuple[Any, ...]:
    """Decode ABI-encoded return data into a tuple of Python values."""
    return tuple(decode(list(types), data))


def constructor_types(abi: Sequence[dict[str, Any]]) -> list[str]:
    """Argument types of the constructor in ``abi`` (empty if it has none)."""
    for item in abi:
        if item.get("type") == "constructor":
            return [_abi_type(param) for param in item.get("inputs", [])]
    return []


def _abi_type(param: dict[str, Any]) -> str:
    """Canonical type string of an ABI parameter, expanding tuples."""
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind
