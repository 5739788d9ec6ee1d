"""The service's error tree: every expected failure, each with one GraphQL code.

    ServiceError                       (abstract) code, retryable, chain?, account?, token?
    ├── BadUserInput                   BAD_USER_INPUT              an argument we cannot use
    │   ├── BeforeFirstBlock           BAD_USER_INPUT              a time before the chain began
    │   ├── InvalidAddress             INVALID_ADDRESS             does not parse, bad checksum
    │   ├── UnsupportedChain           UNSUPPORTED_CHAIN           no such chain configured
    │   ├── UnsupportedToken           UNSUPPORTED_TOKEN           the chain has no such asset
    │   └── CostLimitExceeded          COST_LIMIT_EXCEEDED         too big: split the request
    ├── ChainError                     (abstract) reading a chain failed; a value per key
    │   ├── UpstreamError              UPSTREAM_PROVIDER_ERROR     node trouble: another node or
    │   │   │                                                      a later try may succeed
    │   │   ├── UpstreamTimeout        UPSTREAM_TIMEOUT
    │   │   ├── UpstreamRateLimited    UPSTREAM_RATE_LIMITED
    │   │   ├── UpstreamOversized      UPSTREAM_RESPONSE_TOO_LARGE an answer over the chain's
    │   │   │                                                      max_response_bytes
    │   │   └── ArchiveNodeRequired    ARCHIVE_NODE_REQUIRED       that block's state is pruned
    │   │                                                          (fails over to the next node)
    │   ├── UpstreamRefused            UPSTREAM_REFUSED            the node definitely refused the
    │   │   │                                                      request (a JSON-RPC error that
    │   │   │                                                      is an answer, Esplora's HTTP 400)
    │   │   └── RangeTooLarge          UPSTREAM_RANGE_REFUSED      a log range or result too large:
    │   │                                                          the scanner splits it
    │   ├── HistoryUnavailable         HISTORY_UNAVAILABLE         no events tell this history
    │   ├── TokenCallFailed            TOKEN_CALL_FAILED           balanceOf reverted / no data
    │   │   └── NoContractCode         TOKEN_CALL_FAILED           no data: no code at that block
    │   ├── TokenMetadataUnavailable   TOKEN_METADATA_UNAVAILABLE  decimals unknown: no amount
    │   └── ChainMisconfigured         CHAIN_MISCONFIGURED         the operator's config is wrong
    │                                                              (no Multicall3 at its address)
    ├── DiscoveryIncomplete            DISCOVERY_INCOMPLETE        not every block scanned yet: the
    │                                                              rows found so far (retryable)
    ├── DiscoveryTruncated             DISCOVERY_TRUNCATED         more tokens found than kept: the
    │                                                              most recently active are shown
    ├── DiscoveryUnavailable           DISCOVERY_UNAVAILABLE       the chain has no discovery source
    ├── HistoryBusy                    HISTORY_BUSY                this process scans all the
    │                                                              history it may: retry soon
    ├── HistoryRepriced                HISTORY_REPRICED            a timeline priced before its
    │                                                              token's first block was known
    │                                                              costs more: send it again
    └── PriceUnavailable               PRICE_UNAVAILABLE           a price source failed

One code means one thing: a misconfiguration is never an upstream error, and a definite
refusal is never "node trouble" (only `UpstreamError` fails over to the next endpoint). An
`UpstreamError` that may be the request's doing rather than the node's (`shaped`: an answer
too large, an error the node answered with, a slow log scan) fails over but counts against
an endpoint's health only once another endpoint answered the same request: no request a
caller shapes can open a circuit that other requests depend on.

Errors are immutable values: providers return them in place of a result for one key, loaders
hand them to resolvers, and the GraphQL layer turns `extensions` into the response's
`errors[].extensions`. Nothing here knows about GraphQL. The abstract classes cannot be
raised themselves, so every error a client sees has a specific code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Self

from core.models import TokenRef

_MAX_MESSAGE = 300
_MAX_KEY = 128
_KEYS = ("chain", "account", "token")


@dataclass(frozen=True, eq=False)
class ServiceError(Exception):
    """An expected failure whose message and extensions are safe to show a client."""

    message: str
    chain: str | None = None
    account: str | None = None
    token: str | None = None
    transient: bool | None = field(default=None, init=False, repr=False)
    """Overrides the class's `retryable` when this instance knows better (`retry_if`)."""
    shaped: bool = field(default=False, init=False, repr=False)
    """`UpstreamError`s only: the failure may be the request's doing (its size, its range,
    the contracts it calls) rather than the node's (`UpstreamError.of_request`). It fails
    over, but says nothing of the node's health unless another node answers the same."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    retryable: ClassVar[bool] = False
    abstract: ClassVar[bool] = True
    refines: ClassVar[bool] = False
    """A narrower case of its parent that keeps the parent's code: the service treats it
    apart (`BeforeFirstBlock`, `NoContractCode`), a client need not."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.abstract = cls.__dict__.get("abstract", False)

    def __post_init__(self) -> None:
        if self.abstract:
            raise TypeError(f"{type(self).__name__} is abstract: raise a subclass with a code")
        # What an error can echo of a client's input is bounded, whatever the message says.
        for name, limit in (("message", _MAX_MESSAGE), *((n, _MAX_KEY) for n in _KEYS)):
            value = getattr(self, name)
            if isinstance(value, str) and len(value) > limit:
                object.__setattr__(self, name, value[:limit] + "…")
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def extensions(self) -> dict[str, object]:
        """The GraphQL `extensions` object: code, retryable and whichever key parts apply."""
        ext: dict[str, object] = {"code": self.code}
        for name in _KEYS:
            value = getattr(self, name)
            if value is not None:
                ext[name] = value
        ext["retryable"] = self.retryable if self.transient is None else self.transient
        return ext

    def about(
        self,
        *,
        chain: str | None = None,
        account: str | None = None,
        token: str | TokenRef | None = None,
    ) -> Self:
        """The same error, naming the chain, account and token it concerns."""
        return self._copy(
            chain=chain or self.chain,
            account=account or self.account,
            token=str(token) if token is not None else self.token,
        )

    def retry_if(self, transient: bool) -> Self:
        """The same error, retryable or not as this instance's circumstances say."""
        copy = self._copy()
        object.__setattr__(copy, "transient", transient)
        return copy

    def _copy(self, **changes: Any) -> Self:
        """`dataclasses.replace`, keeping what this instance knows better than its class."""
        copy = replace(self, **changes)
        for name in ("transient", "shaped"):
            object.__setattr__(copy, name, getattr(self, name))
        return copy


class BadUserInput(ServiceError):
    code = "BAD_USER_INPUT"


class BeforeFirstBlock(BadUserInput):
    """A time before a chain's first block: nothing was held there yet (`portfolioHistory`
    counts the chain as 0 at such a point; a read at that time is refused)."""

    refines = True


class InvalidAddress(BadUserInput):
    code = "INVALID_ADDRESS"


class UnsupportedChain(BadUserInput):
    code = "UNSUPPORTED_CHAIN"


class UnsupportedToken(BadUserInput):
    """The chain has no such asset at all (any token on Bitcoin), whatever its address."""

    code = "UNSUPPORTED_TOKEN"


class CostLimitExceeded(BadUserInput):
    code = "COST_LIMIT_EXCEEDED"


class ChainError(ServiceError):
    """A failure to read one key (or a whole batch) from a chain."""

    abstract = True


class UpstreamError(ChainError):
    """The node (not the chain) misbehaved: another node or a later try may succeed."""

    code = "UPSTREAM_PROVIDER_ERROR"
    retryable = True

    def of_request(self) -> Self:
        """The same error, as one the request may have caused (`shaped`)."""
        copy = self._copy()
        object.__setattr__(copy, "shaped", True)
        return copy


class UpstreamTimeout(UpstreamError):
    code = "UPSTREAM_TIMEOUT"


class UpstreamRateLimited(UpstreamError):
    code = "UPSTREAM_RATE_LIMITED"


class UpstreamOversized(UpstreamError):
    """The node's answer passed the chain's `max_response_bytes` and was refused as it
    streamed in. What the request asked for decides its size (a log range on a busy token, a
    contract returning megabytes), so it is always `shaped`; asking the same again will not
    help. A log scan treats it as a range too large and splits it."""

    code = "UPSTREAM_RESPONSE_TOO_LARGE"
    retryable = False


class ArchiveNodeRequired(UpstreamError):
    """The node no longer has the state of the block asked for ("missing trie node",
    "header not found" on a pruned node): another node of the list may (it fails over), but
    trying this one again will not help; only an archive node (`archive_rpc_urls`) can."""

    code = "ARCHIVE_NODE_REQUIRED"
    retryable = False


class UpstreamRefused(ChainError):
    """The node answered that it will not run the request (a definite JSON-RPC error such
    as a revert or invalid params, Esplora's HTTP 400): another node would say the same."""

    code = "UPSTREAM_REFUSED"


@dataclass(frozen=True, eq=False)
class RangeTooLarge(UpstreamRefused):
    """The node refused a log query's block range or result size (`-32005`, "more than N
    results", "block range too large"): the same query over a smaller range will pass.
    `suggested_end` is the range end the node proposed, when it named one. A client sees it
    only when a node refuses even one block's logs."""

    code = "UPSTREAM_RANGE_REFUSED"
    suggested_end: int | None = None


class HistoryUnavailable(ChainError):
    """This history cannot be told from what the chain exposes (native ETH moves without
    logs: it needs a trace method the operator enables)."""

    code = "HISTORY_UNAVAILABLE"


class HistoryBusy(ServiceError):
    """This process is already running as many history scans (blocks, events) as it may: a
    new one is refused at once rather than queued, and a retry in a few seconds will do."""

    code = "HISTORY_BUSY"
    retryable = True


class HistoryRepriced(ServiceError):
    """A timeline was priced before its token's first block was known (a scan of unknown
    size); the search has found it, and the scan costs more than was charged. Nothing more
    was read: sent again, the request is priced right (or refused, if over the limit)."""

    code = "HISTORY_REPRICED"
    retryable = True


class TokenCallFailed(ChainError):
    """The chain answered definitely: the call reverted or the address returned no data."""

    code = "TOKEN_CALL_FAILED"


class NoContractCode(TokenCallFailed):
    """balanceOf returned no data: the address had no code at that block (not a contract,
    or a token not deployed yet)."""

    refines = True


class TokenMetadataUnavailable(ChainError):
    """The token's decimals are unknown, so an amount cannot be computed from the raw value."""

    code = "TOKEN_METADATA_UNAVAILABLE"


class ChainMisconfigured(ChainError):
    """The chain cannot be read as configured (e.g. no Multicall3 contract at the configured
    address): the operator must fix the config; retrying will not help."""

    code = "CHAIN_MISCONFIGURED"


@dataclass(frozen=True, eq=False)
class DiscoveryIncomplete(ServiceError):
    """Discovery has not scanned every block of the account's history yet (a cold scan
    outlived the request's deadline, or waits for the scan budget): the rows are what was
    found in `scanned_from`..`scanned_to`; the scan goes on, and a later call finds the rest."""

    code = "DISCOVERY_INCOMPLETE"
    retryable = True
    scanned_from: int | None = None
    scanned_to: int | None = None

    @property
    def extensions(self) -> dict[str, object]:
        ext = super().extensions
        if self.scanned_from is not None and self.scanned_to is not None:
            ext["scannedFromBlock"] = str(self.scanned_from)
            ext["scannedToBlock"] = str(self.scanned_to)
        return ext


class DiscoveryTruncated(ServiceError):
    """More tokens were found than `[limits] max_discovered_tokens`: those with the most
    recent activity are kept and shown."""

    code = "DISCOVERY_TRUNCATED"


class DiscoveryUnavailable(ServiceError):
    """Discovery was asked for on a chain that has no discovery source configured."""

    code = "DISCOVERY_UNAVAILABLE"


class PriceUnavailable(ServiceError):
    """A price source failed, so a value in USD is unknown (never zero)."""

    code = "PRICE_UNAVAILABLE"
    retryable = True
