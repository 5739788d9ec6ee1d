"""Argument validation shared by the balance and token resolvers."""

from __future__ import annotations

from chains.reader import Freshness
from chains.registry import Chain, ChainRegistry
from core.errors import BadUserInput, InvalidAddress
from core.models import TokenRef
from core.text import excerpt
from resolvers.scope import RequestScope


def freshness(scope: RequestScope, max_age: int | None, force_refresh: bool | None) -> Freshness:
    """The caller's freshness contract for one field (`maxAge` defaults to the config's)."""
    if max_age is not None and max_age < 0:
        raise BadUserInput(f"maxAge must be zero or more seconds, got {max_age}")
    return Freshness(
        max_age=scope.default_max_age if max_age is None else max_age,
        force_refresh=bool(force_refresh),
    )


def account_on(chain: Chain, address: str) -> str:
    """`address` in the canonical form of `chain`'s family."""
    try:
        return chain.provider.normalize_account(address)
    except InvalidAddress as exc:
        raise exc.about(chain=chain.id, account=address) from None


def token_on(chain: Chain, address: str) -> TokenRef:
    try:
        return chain.provider.normalize_token(address)
    except InvalidAddress as exc:
        raise exc.about(chain=chain.id, token=address) from None


def canonical_account(registry: ChainRegistry, address: str) -> str:
    """The account in the form of the first configured family that accepts it."""
    first_error: InvalidAddress | None = None
    for chain in registry:
        try:
            return chain.provider.normalize_account(address)
        except InvalidAddress as exc:
            first_error = first_error or exc
    raise (first_error or InvalidAddress(f"{excerpt(address)} is not an address")).about(
        account=address
    )
