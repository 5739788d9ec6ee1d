"""Account-level reading: the whole selection is checked before a single upstream request,
every chain the address fits is read in one round, failures come back beside the rows.

The first tests run the service against anvil; the rest run the resolver on in-memory chains.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from chains.registry import Chain
from core.errors import (
    BadUserInput,
    CostLimitExceeded,
    InvalidAddress,
    TokenCallFailed,
    UpstreamError,
)
from core.models import NATIVE_TOKEN, ChainFamily, TokenMeta, TokenRef, TokenStandard
from resolvers.account import Selection, account_balances
from resolvers.rows import BalanceRow
from settings import LimitsConfig
from tests.conftest import Api, Devnet, devnet_settings, serve
from tests.fakes.service import ALICE, BOB, DAI, USDC, FakeProvider, erc20, make_chain, make_scope

QUERY = """query($a: String!, $min: Decimal, $t: [String!], $c: [String!]) {
  account(address: $a) { balances(minValueUsd: $min, tokens: $t, chains: $c) { rawAmount } }
}"""
PORTFOLIO = """query($a: String!, $min: Decimal, $c: [String!]) {
  account(address: $a) { portfolio(minValueUsd: $min, chains: $c) { totalUsd } }
}"""


@pytest.fixture
def priced(tmp_path: Path, devnet: Devnet) -> Iterator[Api]:
    prices = {"sources": ["static"], "static": {"devnet:native": "3000"}}
    yield from serve(devnet_settings(tmp_path, devnet, prices=prices, limits={"max_tokens": 3}))


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"min": "-0.01"}, "BAD_USER_INPUT"),
        ({"t": ["native"] * 4}, "COST_LIMIT_EXCEEDED"),
        ({"c": ["devnet"] * 12}, "COST_LIMIT_EXCEEDED"),
    ],
)
def test_a_bad_selection_is_refused_with_no_upstream_request(
    priced: Api, devnet: Devnet, variables: dict[str, object], code: str
) -> None:
    queries = (
        {"balances": QUERY} if "t" in variables else {"balances": QUERY, "portfolio": PORTFOLIO}
    )
    for field, query in queries.items():
        body = priced.query(query, {"a": devnet.holder, **variables})
        (error,) = body["errors"]
        assert (error["extensions"]["code"], error["path"]) == (code, ["account", field])
    assert priced.upstream() == 0


def test_a_good_selection_reads_once(priced: Api, devnet: Devnet) -> None:
    body = priced.query(QUERY, {"a": devnet.holder, "min": "0", "t": ["native"]})
    assert "errors" not in body, body
    assert priced.upstream() == 1


def test_chain_ids_spelled_differently_are_one_chain(api: Api, devnet: Devnet) -> None:
    body = api.query(
        '{ account(address: "%s") { balances(chains: ["devnet", "Devnet", " devnet"], '
        'tokens: ["native"]) { chain rawAmount } } }' % devnet.holder
    )
    assert len(body["data"]["account"]["balances"]) == 1


# --- the resolver on in-memory chains ------------------------------------------------------

BROKEN = TokenRef("0x" + "9" * 40)
STARKNET_ALICE = "0x" + "0" * 61 + "a11"


def held(chain: str) -> FakeProvider:
    """Alice holds 1 native and 5 USDC on `chain`."""
    return FakeProvider(chain, balances={(ALICE, NATIVE_TOKEN): 10**18, (ALICE, USDC): 5_000_000})


def listed(provider: FakeProvider, *extra: TokenMeta) -> Chain:
    """The chain with USDC (and `extra`) in its token list."""
    return make_chain(provider, listed=[erc20(provider.chain, USDC, "USDC", 6), *extra])


def symbols(rows: list[BalanceRow]) -> list[tuple[str, str | None]]:
    return [(r.reading.key.chain, r.token.symbol) for r in rows]


async def test_every_chain_the_address_fits_is_read_with_its_listed_tokens() -> None:
    eth, base = held("eth"), held("base")
    starknet = FakeProvider("starknet", family=ChainFamily.STARKNET)
    scope = make_scope(listed(eth), listed(base), make_chain(starknet))
    rows, errors = await account_balances(scope, ALICE.lower(), Selection(), None, None)
    assert symbols(rows) == [("eth", "ETH"), ("eth", "USDC"), ("base", "ETH"), ("base", "USDC")]
    assert errors == [] and (eth.rounds, base.rounds) == (1, 1)
    assert starknet.rounds == 0  # an EVM address is a valid felt, but never meant as one


async def test_zero_balances_are_hidden_unless_asked_for() -> None:
    scope = make_scope(listed(FakeProvider("eth")))
    hidden, _ = await account_balances(scope, BOB, Selection(), None, None)
    shown, _ = await account_balances(scope, BOB, Selection(include_zero=True), None, None)
    assert hidden == [] and symbols(shown) == [("eth", "ETH"), ("eth", "USDC")]


async def test_spam_is_hidden_unless_asked_for() -> None:
    provider = held("eth")
    provider.balances[(ALICE, DAI)] = 1
    spam = TokenMeta("eth", DAI, TokenStandard.ERC20, "DAI", "Dai", 18, spam=True)
    scope = make_scope(listed(provider, spam))
    rows, _ = await account_balances(scope, ALICE, Selection(), None, None)
    with_spam, _ = await account_balances(scope, ALICE, Selection(include_spam=True), None, None)
    assert "DAI" not in [s for _, s in symbols(rows)]
    assert "DAI" in [s for _, s in symbols(with_spam)]


async def test_a_failed_chain_is_one_error_naming_chain_and_account_not_a_token() -> None:
    down = held("down")
    down.down = UpstreamError("node unreachable")
    scope = make_scope(listed(held("eth")), listed(down))
    rows, errors = await account_balances(scope, ALICE, Selection(), None, None)
    assert {chain for chain, _ in symbols(rows)} == {"eth"}
    (error,) = errors
    assert error.extensions == {
        "code": "UPSTREAM_PROVIDER_ERROR",
        "chain": "down",
        "account": ALICE,
        "retryable": True,
    }


async def test_a_failed_token_stays_one_error_per_token() -> None:
    provider = held("eth")
    provider.failures[BROKEN] = TokenCallFailed("balanceOf reverted")
    scope = make_scope(listed(provider, erc20("eth", BROKEN, "BRK")))
    rows, errors = await account_balances(scope, ALICE, Selection(), None, None)
    assert symbols(rows) == [("eth", "ETH"), ("eth", "USDC")]
    assert [(e.code, e.token) for e in errors] == [("TOKEN_CALL_FAILED", str(BROKEN))]


async def test_unknown_chains_and_bad_tokens_are_errors_beside_the_rows() -> None:
    scope = make_scope(listed(held("eth")))
    selection = Selection(chains=["eth", "solana"], tokens=[str(USDC), "USDC"])
    rows, errors = await account_balances(scope, ALICE, selection, None, None)
    assert symbols(rows) == [("eth", "USDC")]
    assert [e.code for e in errors] == ["UNSUPPORTED_CHAIN", "INVALID_ADDRESS"]


async def test_an_address_no_chain_accepts_is_invalid() -> None:
    scope = make_scope(listed(held("eth")))
    with pytest.raises(InvalidAddress):
        await account_balances(scope, STARKNET_ALICE, Selection(), None, None)


async def test_a_selection_over_the_limits_is_refused_before_any_read() -> None:
    provider = held("eth")
    scope = make_scope(listed(provider), limits=LimitsConfig(max_tokens=1))
    for selection in (
        Selection(tokens=["native", str(USDC)]),
        Selection(chains=["eth"] * 12),
    ):
        with pytest.raises(CostLimitExceeded):
            await account_balances(scope, ALICE, selection, None, None)
    with pytest.raises(BadUserInput, match="minValueUsd must be zero or more"):
        await account_balances(scope, ALICE, Selection(min_value_usd=Decimal(-1)), None, None)
    assert provider.rounds == 0
