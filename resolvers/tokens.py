"""Token and chain resolvers."""

from __future__ import annotations

from chains.models import TokenMeta
from chains.registry import Chain
from resolvers.arguments import token_on
from resolvers.scope import RequestScope


async def token(scope: RequestScope, chain: str, address: str) -> TokenMeta:
    configured = scope.registry.get(chain)
    return await scope.loaders.tokens.load(configured.id, token_on(configured, address))


def chains(scope: RequestScope) -> list[Chain]:
    return list(scope.registry)
