"""The service's error tree: every expected failure has a GraphQL code.

    ServiceError                      code, retryable, chain?, account?, token?
    ├── BadUserInput                  BAD_USER_INPUT
    │   ├── InvalidAddress            INVALID_ADDRESS
    │   ├── UnsupportedChain          UNSUPPORTED_CHAIN
    │   └── CostLimitExceeded         COST_LIMIT_EXCEEDED
    └── ChainError                    a failure reading a chain (returned as a value per key)
        ├── UpstreamError             UPSTREAM_PROVIDER_ERROR   node trouble: try another node
        │   ├── UpstreamTimeout       UPSTREAM_TIMEOUT
        │   └── UpstreamRateLimited   UPSTREAM_RATE_LIMITED
        ├── TokenCallFailed           TOKEN_CALL_FAILED         balanceOf reverted / no data
        ├── TokenMetadataUnavailable  TOKEN_METADATA_UNAVAILABLE
        └── PriceUnavailable          PRICE_UNAVAILABLE         a price source failed

Errors are immutable values: providers return them in place of a result for one key, loaders
hand them to resolvers, and the GraphQL layer turns `extensions` into the response's
`errors[].extensions`. Nothing here knows about GraphQL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar, Self

from chains.models import TokenRef


@dataclass(frozen=True, eq=False)
class ServiceError(Exception):
    """An expected failure whose message and extensions are safe to show a client."""

    message: str
    chain: str | None = None
    account: str | None = None
    token: str | None = None

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    retryable: ClassVar[bool] = False

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def extensions(self) -> dict[str, object]:
        """The GraphQL `extensions` object: code, retryable and whichever key parts apply."""
        ext: dict[str, object] = {"code": self.code}
        for name in ("chain", "account", "token"):
            value = getattr(self, name)
            if value is not None:
                ext[name] = value
        ext["retryable"] = self.retryable
        return ext

    def about(
        self,
        *,
        chain: str | None = None,
        account: str | None = None,
        token: str | TokenRef | None = None,
    ) -> Self:
        """The same error, naming the chain, account and token it concerns."""
        return replace(
            self,
            chain=chain or self.chain,
            account=account or self.account,
            token=str(token) if token is not None else self.token,
        )


class BadUserInput(ServiceError):
    code = "BAD_USER_INPUT"


class InvalidAddress(BadUserInput):
    code = "INVALID_ADDRESS"


class UnsupportedChain(BadUserInput):
    code = "UNSUPPORTED_CHAIN"


class CostLimitExceeded(BadUserInput):
    code = "COST_LIMIT_EXCEEDED"


class ChainError(ServiceError):
    """A failure to read one key (or a whole batch) from a chain."""

    code = "UPSTREAM_PROVIDER_ERROR"


class UpstreamError(ChainError):
    """The node (not the chain) misbehaved: another node or a later try may succeed."""

    code = "UPSTREAM_PROVIDER_ERROR"
    retryable = True


class UpstreamTimeout(UpstreamError):
    code = "UPSTREAM_TIMEOUT"


class UpstreamRateLimited(UpstreamError):
    code = "UPSTREAM_RATE_LIMITED"


class TokenCallFailed(ChainError):
    """The chain answered definitely: the call reverted or the address returned no data."""

    code = "TOKEN_CALL_FAILED"


class TokenMetadataUnavailable(ChainError):
    """The token's decimals are unknown, so an amount cannot be computed from the raw value."""

    code = "TOKEN_METADATA_UNAVAILABLE"


class PriceUnavailable(ChainError):
    """A price source failed, so a value in USD is unknown (never zero)."""

    code = "PRICE_UNAVAILABLE"
    retryable = True
