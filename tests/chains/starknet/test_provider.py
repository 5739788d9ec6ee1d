"""StarknetProvider against the spec-shaped fake node of `tests.fakes.starknet` (JSON-RPC
spec v0.7/v0.8: shuffled batch replies, canonical felts, `starknet_call` errors 20 / 21 / 40).
"""

from __future__ import annotations

import pytest

from chains.starknet.provider import ETH_ADDRESS, STRK_ADDRESS
from core.errors import ChainError, InvalidAddress, TokenCallFailed, UpstreamError
from core.models import NATIVE, NATIVE_TOKEN, BalanceReading, TokenMeta, TokenRef
from tests.fakes.starknet import (
    ALICE,
    BALANCE_OF,
    BOB,
    CHAIN,
    LEGACY,
    MISSING,
    NOW,
    REVERTS,
    TOKEN,
    Function,
    Revert,
    byte_array,
    connect,
    erc20,
    key,
    mainnet,
)


def reading(value: BalanceReading | ChainError) -> BalanceReading:
    assert isinstance(value, BalanceReading), value
    return value


def meta(value: TokenMeta | ChainError) -> TokenMeta:
    assert isinstance(value, TokenMeta), value
    return value


# ---------------------------------------------------------------------------------------------
# Addresses


async def test_accounts_are_zero_padded_and_lowercased() -> None:
    async with connect(mainnet()) as h:
        assert h.provider.normalize_account("0x1") == "0x" + "0" * 63 + "1"
        assert (
            h.provider.normalize_account(
                " 0x49D36570D4E46F48E99674BD3FCC84644DDD6B96F7C741B1562B82F9E004DC7 "
            )
            == ETH_ADDRESS
        )
        assert h.provider.normalize_account(STRK_ADDRESS) == STRK_ADDRESS
        evm = "0x00000000219ab540356cBB839Cbe05303d7705Fa"  # 40 digits: also a Starknet address
        assert h.provider.normalize_account(evm) == "0x" + "0" * 24 + evm[2:].lower()
        assert h.provider.normalize_token("0x" + "f" * 62) == TokenRef("0x00" + "f" * 62)
        assert h.provider.normalize_account("0x7" + "f" * 62) == "0x07" + "f" * 62  # 2**251 - 1


@pytest.mark.parametrize(
    "text",
    [
        "0x" + "0" * 65,  # 65 digits
        "0x" + "8" + "0" * 62,  # exactly 2**251
        "0x" + "f" * 63,  # a 252-bit number
        "0xabcg",  # not hex
        "0x",  # no digits
        "49d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7",  # no prefix
        "0x-1",
        "native",  # not an account
        "",
    ],
)
async def test_invalid_addresses_are_rejected(text: str) -> None:
    async with connect(mainnet()) as h:
        with pytest.raises(InvalidAddress, match="Starknet address"):
            h.provider.normalize_account(text)
        if text != "native":
            with pytest.raises(InvalidAddress):
                h.provider.normalize_token(text)


async def test_native_aliases_map_to_native() -> None:
    async with connect(mainnet()) as h:
        for text in ("native", " NATIVE ", "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"):
            assert h.provider.normalize_token(text) == NATIVE_TOKEN


# ---------------------------------------------------------------------------------------------
# Balances


async def test_u256_balance_above_2_128_combines_low_and_high() -> None:
    async with connect(mainnet()) as h:
        result = await h.read([key(ALICE, TOKEN), key(BOB, TOKEN)])
    assert reading(result.balances[0]).raw_amount == 5 * 2**128 + 42
    assert reading(result.balances[1]).raw_amount == 2**200


async def test_native_reads_balance_of_on_the_strk_contract() -> None:
    async with connect(mainnet()) as h:
        result = await h.read([key(ALICE, NATIVE)])
    assert reading(result.balances[0]).raw_amount == 7 * 10**18
    assert reading(result.balances[0]).key == key(ALICE, NATIVE)
    (call,) = [c for c in h.node.batches[0] if c["method"] == "starknet_call"]
    assert int(call["params"][0]["contract_address"], 16) == int(STRK_ADDRESS, 16)


async def test_native_contract_is_configurable() -> None:
    async with connect(mainnet(), native=ETH_ADDRESS) as h:
        result = await h.read([key(ALICE, NATIVE)])
    assert reading(result.balances[0]).raw_amount == 3 * 10**17


async def test_calls_have_the_spec_shape_with_canonical_felts() -> None:
    async with connect(mainnet()) as h:
        await h.read([key(ALICE, NATIVE)])
    (batch,) = h.node.batches
    assert batch[0]["method"] == "starknet_blockNumber"
    call = batch[1]
    assert call["method"] == "starknet_call"
    assert call["params"] == [
        {
            "contract_address": "0x4718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938d",
            "entry_point_selector": hex(BALANCE_OF),
            "calldata": ["0xa11"],
        },
        "latest",
    ]


async def test_single_felt_balance_of_an_old_contract_is_accepted() -> None:
    old: dict[int, Function] = {BALANCE_OF: lambda _: [123_456]}
    async with connect(mainnet({LEGACY: old})) as h:
        result = await h.read([key(ALICE, LEGACY)])
    assert reading(result.balances[0]).raw_amount == 123_456


async def test_a_result_that_is_not_a_u256_is_token_call_failed() -> None:
    odd: dict[int, Function] = {BALANCE_OF: lambda _: [1, 2, 3]}
    wide: dict[int, Function] = {BALANCE_OF: lambda _: [2**128, 0]}
    async with connect(mainnet({LEGACY: odd, REVERTS: wide})) as h:
        result = await h.read([key(ALICE, LEGACY), key(ALICE, REVERTS), key(ALICE, TOKEN)])
    for failed, token in zip(result.balances[:2], (LEGACY, REVERTS), strict=True):
        assert isinstance(failed, TokenCallFailed)
        assert (failed.chain, failed.account, failed.token) == (CHAIN, ALICE, token)
    assert reading(result.balances[2]).raw_amount == 5 * 2**128 + 42


@pytest.mark.parametrize("spec", ["0.7", "0.8"])
async def test_reverting_and_missing_contracts_fail_only_their_key(spec: str) -> None:
    """With `definite_codes`, errors 20/21/40 are the chain's answer, not node trouble."""
    node = mainnet({REVERTS: {BALANCE_OF: lambda _: Revert("u256_sub Overflow")}, LEGACY: {}})
    node.spec = spec
    async with connect(node) as h:
        result = await h.read(
            [key(ALICE, TOKEN), key(ALICE, MISSING), key(ALICE, REVERTS), key(ALICE, LEGACY)]
        )
    assert reading(result.balances[0]).raw_amount == 5 * 2**128 + 42
    for failed, token in zip(result.balances[1:], (MISSING, REVERTS, LEGACY), strict=True):
        assert isinstance(failed, TokenCallFailed), failed
        assert (failed.chain, failed.account, failed.token) == (CHAIN, ALICE, token)
        assert "balanceOf" in failed.message and token in failed.message
        assert not failed.retryable


async def test_http_503_fails_every_key_with_chain_account_and_token() -> None:
    node = mainnet()
    node.status = 503
    async with connect(node) as h:
        result = await h.read([key(ALICE, NATIVE), key(BOB, TOKEN)], [TOKEN])
    for failed, (account, token) in zip(
        result.balances, [(ALICE, NATIVE), (BOB, TOKEN)], strict=True
    ):
        assert isinstance(failed, UpstreamError)
        assert (failed.chain, failed.account, failed.token) == (CHAIN, account, token)
        assert failed.retryable
    (token_error,) = result.tokens
    assert isinstance(token_error, UpstreamError)
    assert (token_error.chain, token_error.token) == (CHAIN, TOKEN)


async def test_a_malformed_block_number_fails_the_chunk() -> None:
    node = mainnet()
    node.block = -1
    async with connect(node) as h:
        result = await h.read([key(ALICE, NATIVE)])
    (failed,) = result.balances
    assert isinstance(failed, UpstreamError)
    assert (failed.chain, failed.account, failed.token) == (CHAIN, ALICE, NATIVE)


async def test_many_balances_take_one_request() -> None:
    accounts = [f"0x{i:064x}" for i in range(1, 41)]
    async with connect(mainnet()) as h:
        result = await h.read([key(a, t) for a in accounts for t in (NATIVE, TOKEN)], [TOKEN])
    assert h.requests == 1
    assert len(h.node.batches[0]) == 1 + 80 + 3
    assert all(isinstance(b, BalanceReading) for b in result.balances)


async def test_batch_size_5_with_12_lookups_sends_3_requests() -> None:
    balances = [key(a, t) for a in (ALICE, BOB) for t in (NATIVE, TOKEN, ETH_ADDRESS)]
    async with connect(mainnet(), batch_size=5) as h:
        result = await h.read(balances, [TOKEN, STRK_ADDRESS])  # 6 + 2 * 3 = 12 calls
    assert h.requests == 3
    assert all(len(b) <= 5 and b[0]["method"] == "starknet_blockNumber" for b in h.node.batches)
    amounts = [reading(b).raw_amount for b in result.balances]
    assert amounts == [7 * 10**18, 5 * 2**128 + 42, 3 * 10**17, 1, 2**200, 0]
    assert [meta(t).symbol for t in result.tokens] == ["USDC", "STRK"]
    assert [meta(t).decimals for t in result.tokens] == [6, 18]


async def test_every_reading_carries_the_block_number_of_its_batch() -> None:
    async with connect(mainnet()) as h:
        result = await h.read([key(ALICE, NATIVE), key(BOB, TOKEN), key(BOB, ETH_ADDRESS)])
    assert [reading(b).block_number for b in result.balances] == [812_345] * 3
    assert all(reading(b).read_at == NOW for b in result.balances)


async def test_chunks_answered_at_different_blocks_keep_their_own_number() -> None:
    node = mainnet()
    node.advance_per_request = True
    async with connect(node, batch_size=3) as h:  # 2 calls + blockNumber per request
        result = await h.read([key(ALICE, NATIVE), key(BOB, NATIVE), key(ALICE, TOKEN)])
    blocks = [reading(b).block_number for b in result.balances]
    assert blocks[0] == blocks[1]
    assert {blocks[0], blocks[2]} == {812_345, 812_346}


# ---------------------------------------------------------------------------------------------
# Token metadata


async def test_short_string_metadata_and_decimals() -> None:
    async with connect(mainnet()) as h:
        result = await h.read([], [STRK_ADDRESS])
    token = meta(result.tokens[0])
    assert (token.symbol, token.name, token.decimals) == ("STRK", "Starknet Token", 18)
    assert (token.chain, str(token.token), token.standard.value) == (CHAIN, STRK_ADDRESS, "ERC20")


async def test_byte_array_metadata_longer_than_31_bytes() -> None:
    long_name = "Wrapped Bridged Staked Starknet Token (Ω edition)"
    assert len(long_name.encode()) > 31
    contract = erc20({}, decimals=8, symbol=byte_array("wstSTRK"), name=byte_array(long_name))
    async with connect(mainnet({LEGACY: contract})) as h:
        result = await h.read([], [LEGACY])
    token = meta(result.tokens[0])
    assert (token.symbol, token.name, token.decimals) == ("wstSTRK", long_name, 8)


async def test_unreadable_metadata_is_unknown_never_a_default() -> None:
    odd = erc20({}, decimals=300, symbol=[0xFFFE], name=[3, 1, 2])
    async with connect(mainnet({LEGACY: odd})) as h:
        result = await h.read([], [LEGACY])
    token = meta(result.tokens[0])
    assert (token.symbol, token.name, token.decimals) == (None, None, None)


async def test_missing_metadata_views_are_unknown_fields() -> None:
    """ENTRYPOINT_NOT_FOUND (a definite code) leaves the field unknown, not the token failed."""
    async with connect(mainnet()) as h:
        result = await h.read([], [ETH_ADDRESS])  # the mock ETH has no `name`
    token = meta(result.tokens[0])
    assert (token.symbol, token.name, token.decimals) == ("ETH", None, 18)


async def test_native_metadata_reads_the_native_contract() -> None:
    async with connect(mainnet()) as h:
        result = await h.read([], [NATIVE])
    token = meta(result.tokens[0])
    assert (token.token, token.standard.value) == (NATIVE_TOKEN, "NATIVE")
    assert (token.symbol, token.name, token.decimals) == ("STRK", "Starknet Token", 18)
