"""`Chain`: a configured chain and its native asset."""

from __future__ import annotations

import strawberry

from chains.registry import Chain as DomainChain
from graph.schema.enums import ChainFamily
from graph.schema.token import Token


@strawberry.federation.type(
    shareable=True, description="A chain this service reads (shareable with other subgraphs)."
)
class Chain:
    id: str = strawberry.field(description="The chain id used in queries, e.g. `base`.")
    name: str = strawberry.field(description="Display name, e.g. `Base`.")
    family: ChainFamily = strawberry.field(description="The kind of chain.")
    chain_id: int | None = strawberry.field(description="EIP-155 chain id for EVM chains.")
    native_token: Token = strawberry.field(description="The chain's native asset.")

    @classmethod
    def from_domain(cls, chain: DomainChain) -> Chain:
        return cls(
            id=chain.id,
            name=chain.config.name,
            family=chain.config.family,
            chain_id=chain.config.chain_id,
            native_token=Token.from_meta(chain.native),
        )
