"""The domain's enums registered with GraphQL, each value described for schema readers."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from core.models import ChainFamily, TokenStandard
from resolvers.pages import BalanceOrder

__all__ = ["BalanceOrder", "ChainFamily", "TokenStandard"]


def _describe_enum(enum: type[Enum], description: str, values: dict[str, str]) -> None:
    """Register a domain enum with GraphQL, describing each value for schema readers."""
    strawberry.enum(enum, description=description)
    definition: StrawberryEnumDefinition = enum.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = values[value.name]


_describe_enum(
    TokenStandard,
    "How a token's balance is read.",
    {
        "NATIVE": "The chain's own coin (ETH, STRK, BTC), read without a token contract.",
        "ERC20": "A fungible token: balanceOf(owner).",
        "ERC721": "A non-fungible collection: balanceOf(owner) counts the NFTs held.",
        "ERC1155": "One id of a multi-token contract: balanceOf(owner, id).",
    },
)
_describe_enum(
    ChainFamily,
    "The kind of chain, which decides how it is read.",
    {
        "EVM": "Ethereum-like chains, read through Multicall3.",
        "STARKNET": "Starknet, read with starknet_call over JSON-RPC batches.",
        "BITCOIN": "Bitcoin, read from an Esplora REST API.",
    },
)
_describe_enum(
    BalanceOrder,
    "How balance rows are ordered (ties: by chain id, then token address).",
    {
        "VALUE_USD_DESC": "Largest USD value first; unpriced rows last, by amount.",
        "VALUE_USD_ASC": "Smallest USD value first; unpriced rows last, by amount.",
        "AMOUNT_DESC": "Largest amount first (amounts of different tokens compared as numbers).",
        "SYMBOL_ASC": "By symbol, A to Z, ignoring case; tokens without a symbol last.",
        "CHAIN": "By chain id, the native asset first, then by token address.",
    },
)
