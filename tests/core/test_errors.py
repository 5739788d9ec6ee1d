"""The error tree: one code per class, abstract roots, and a docstring that draws all of it."""

from __future__ import annotations

import json

import pytest

from core import errors
from core.errors import (
    ChainError,
    DiscoveryIncomplete,
    HistoryBusy,
    InvalidAddress,
    PriceUnavailable,
    ServiceError,
    UpstreamError,
)
from core.models import TokenRef


def concrete() -> list[type[ServiceError]]:
    found: list[type[ServiceError]] = []
    pending: list[type[ServiceError]] = [ServiceError]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if not cls.abstract:
            found.append(cls)
    return found


def test_every_concrete_error_has_a_code_of_its_own() -> None:
    codes = [cls.code for cls in concrete() if not cls.refines]
    assert len(codes) == len(set(codes)), codes
    assert "INTERNAL_SERVER_ERROR" not in codes  # that one is only for masked bugs


def test_a_refinement_keeps_its_parent_s_code() -> None:
    refining = [cls for cls in concrete() if cls.refines]
    assert refining  # BeforeFirstBlock, NoContractCode
    for cls in refining:
        (parent,) = cls.__bases__
        assert issubclass(parent, ServiceError)
        assert cls.code == parent.code and not parent.abstract, cls


@pytest.mark.parametrize("abstract", [ServiceError, ChainError])
def test_abstract_errors_cannot_be_raised(abstract: type[ServiceError]) -> None:
    with pytest.raises(TypeError, match="abstract"):
        abstract("no code")


def test_the_module_docstring_draws_every_class_with_its_code() -> None:
    doc = errors.__doc__ or ""
    for cls in concrete():
        line = next((ln for ln in doc.splitlines() if f" {cls.__name__} " in ln), "")
        assert cls.code in line, f"{cls.__name__} is not drawn with {cls.code}"


def test_only_node_trouble_is_retryable_among_chain_errors() -> None:
    retryable = {cls.__name__ for cls in concrete() if cls.retryable}
    assert retryable == {
        "UpstreamError",
        "UpstreamTimeout",
        "UpstreamRateLimited",
        "PriceUnavailable",
        "DiscoveryIncomplete",
        "HistoryBusy",
        "HistoryRepriced",
    }
    assert not issubclass(PriceUnavailable, ChainError)  # a price is not a chain read
    assert not issubclass(DiscoveryIncomplete, ChainError)  # rows were served: a notice
    assert not issubclass(HistoryBusy, ChainError)  # nor is this process's own budget


def test_an_incomplete_discovery_says_which_blocks_it_scanned() -> None:
    error = DiscoveryIncomplete("not yet", chain="base", scanned_from=90, scanned_to=2**70)
    assert error.about(account="0xA").extensions == {
        "code": "DISCOVERY_INCOMPLETE",
        "chain": "base",
        "account": "0xA",
        "retryable": True,
        "scannedFromBlock": "90",
        "scannedToBlock": str(2**70),
    }


def test_about_names_the_key_with_the_canonical_token_string() -> None:
    error = UpstreamError("down").about(chain="base", account="0xA", token=TokenRef("0xC", 7))
    assert error.extensions == {
        "code": "UPSTREAM_PROVIDER_ERROR",
        "chain": "base",
        "account": "0xA",
        "token": "0xC:7",
        "retryable": True,
    }
    assert InvalidAddress("bad").extensions == {"code": "INVALID_ADDRESS", "retryable": False}


def test_what_an_error_echoes_of_input_is_bounded() -> None:
    huge = "x" * 10_000
    error = InvalidAddress(huge, chain=huge, account=huge, token=huge)
    assert error.message == "x" * 300 + "…"
    assert {error.chain, error.account, error.token} == {"x" * 128 + "…"}
    assert str(error) == error.message and len(json.dumps(error.extensions)) < 1_000
    short = InvalidAddress("short", account="0xA")
    assert (short.message, short.account) == ("short", "0xA")
