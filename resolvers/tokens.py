"""Token and chain resolvers."""

from __future__ import annotations

from chains.registry import Chain
from core.models import TokenMeta
from resolvers.arguments import token_on
from resolvers.scope import RequestScope


async def token(scope: RequestScope, chain: str, address: str) -> tuple[TokenMeta, bool]:
    """A token's metadata and whether it is flagged as spam."""
    configured = scope.registry.get(chain)
    canonical = token_on(configured, address)
    meta = await scope.loaders.tokens.load(configured.id, canonical)
    listed = configured.reader.is_listed(canonical)
    return meta, scope.spam.is_spam(meta, listed=listed)


def chains(scope: RequestScope) -> list[Chain]:
    return list(scope.registry)
