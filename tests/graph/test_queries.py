"""The query surface against a real anvil devnet: values, shapes and partial failures."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import Api, Devnet, errors_by_code

ACCOUNT_BALANCES = """
query($address: String!, $tokens: [String!], $includeZero: Boolean) {
  account(address: $address) {
    address
    balances(tokens: $tokens, includeZero: $includeZero) {
      chain rawAmount amount blockNumber lastUpdated
      account { address }
      token { chain address symbol name decimals standard }
    }
  }
}
"""


def test_account_balances_lists_native_and_listed_tokens_exactly(api: Api, devnet: Devnet) -> None:
    holder = devnet.holder
    body = api.query(ACCOUNT_BALANCES, {"address": holder.lower()})
    assert "errors" not in body, body
    account = body["data"]["account"]
    assert account["address"] == holder  # lower-case input, EIP-55 output
    rows = {row["token"]["symbol"]: row for row in account["balances"]}
    assert set(rows) == {"ETH", "USDC", "WETH", "MKR"}
    for token in devnet.sample.tokens:
        row = rows[token.symbol]
        raw = devnet.sample.balance(holder, token.symbol)
        assert row["rawAmount"] == str(raw)
        assert Decimal(row["amount"]) == Decimal(raw) / Decimal(10) ** token.decimals
        assert row["token"]["address"] == token.address
        assert row["token"]["decimals"] == token.decimals
        assert row["token"]["standard"] == "ERC20"
    eth = rows["ETH"]
    assert eth["token"]["address"] == "native" and eth["token"]["standard"] == "NATIVE"
    assert eth["rawAmount"] == str(devnet.chain.get_balance(holder))
    blocks = {row["blockNumber"] for row in account["balances"]}
    assert len(blocks) == 1 and int(blocks.pop()) == devnet.chain.block_number()
    assert rows["USDC"]["amount"] == "1234.5"


def test_zero_rows_hidden_unless_include_zero(api: Api, devnet: Devnet) -> None:
    empty = devnet.chain.accounts()[7]
    hidden = api.query(ACCOUNT_BALANCES, {"address": empty})["data"]["account"]["balances"]
    shown = api.query(ACCOUNT_BALANCES, {"address": empty, "includeZero": True})
    rows = shown["data"]["account"]["balances"]
    assert [r for r in hidden if r["token"]["symbol"] != "ETH"] == []
    assert {r["token"]["symbol"] for r in rows} == {"ETH", "USDC", "WETH", "MKR"}
    assert all(r["rawAmount"] == "0" for r in rows if r["token"]["symbol"] != "ETH")


def test_unlisted_token_metadata_is_read_from_chain_with_bytes32_and_missing_decimals(
    api: Api, devnet: Devnet
) -> None:
    mkr = devnet.sample.token("MKR").address
    body = api.query(
        """query($a: String!, $t: [String!]) { account(address: $a) { balances(tokens: $t) {
             rawAmount amount token { address symbol name decimals } } } }""",
        {"a": devnet.sample.holders[0], "t": [devnet.no_decimals.lower()]},
    )
    (row,) = body["data"]["account"]["balances"]
    assert row["rawAmount"] == "777"
    assert row["amount"] is None  # unknown decimals: never a guessed 18
    assert row["token"] == {
        "address": devnet.no_decimals,
        "symbol": "NODEC",
        "name": "No Decimals",
        "decimals": None,
    }
    amount, decimals = sorted(body["errors"], key=lambda e: e["path"])
    for error in (amount, decimals):
        assert error["extensions"]["code"] == "TOKEN_METADATA_UNAVAILABLE"
        assert error["extensions"]["token"] == devnet.no_decimals
    assert amount["path"] == ["account", "balances", 0, "amount"]
    assert decimals["path"] == ["account", "balances", 0, "token", "decimals"]
    token = api.query(
        'query($t: String!) { token(chain: "devnet", address: $t) { symbol name decimals } }',
        {"t": mkr},
    )
    assert token["data"]["token"] == {"symbol": "MKR", "name": "Maker", "decimals": 18}


def test_balance_pairs_serve_good_items_and_locate_each_failure(api: Api, devnet: Devnet) -> None:
    holder = devnet.holder
    usdc = devnet.sample.token("USDC").address
    pairs = [
        {"account": holder, "chain": "devnet", "token": usdc},
        {"account": "0x123", "chain": "devnet", "token": usdc},
        {"account": holder, "chain": "solana", "token": "native"},
        {"account": holder, "chain": "devnet", "token": devnet.reverting},
        {"account": holder, "chain": "devnet", "token": devnet.eoa},
        {
            "account": holder.lower(),
            "chain": "devnet",
            "token": "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE",
        },
    ]
    body = api.query(
        """query($p: [BalanceKeyInput!]!) { balances(pairs: $p) {
             rawAmount account { address } token { symbol address } } }""",
        {"p": pairs},
    )
    items = body["data"]["balances"]
    assert items[0]["rawAmount"] == str(devnet.sample.balance(holder, "USDC"))
    assert items[1] is None and items[2] is None and items[3] is None and items[4] is None
    assert items[5]["token"] == {"symbol": "ETH", "address": "native"}
    assert items[5]["account"]["address"] == holder
    by_path = {tuple(e["path"]): e["extensions"] for e in body["errors"]}
    assert by_path[("balances", 1)]["code"] == "INVALID_ADDRESS"
    assert by_path[("balances", 1)]["account"] == "0x123"
    assert by_path[("balances", 2)] == {
        "code": "UNSUPPORTED_CHAIN",
        "chain": "solana",
        "retryable": False,
    }
    assert by_path[("balances", 3)]["code"] == "TOKEN_CALL_FAILED"
    assert by_path[("balances", 3)]["token"] == devnet.reverting
    assert by_path[("balances", 3)]["account"] == holder
    assert by_path[("balances", 4)]["code"] == "TOKEN_CALL_FAILED"
    assert len(body["errors"]) == 4


def test_too_many_pairs_is_a_cost_limit_error(api: Api, devnet: Devnet) -> None:
    pairs = [{"account": devnet.holder, "chain": "devnet", "token": "native"}] * 101
    body = api.query(
        "query($p: [BalanceKeyInput!]!) { balances(pairs: $p) { rawAmount } }", {"p": pairs}
    )
    assert body["data"] == {"balances": None}
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert api.upstream() == 0
    ok = api.query(
        "query($p: [BalanceKeyInput!]!) { balances(pairs: $p) { rawAmount } }", {"p": pairs[:100]}
    )
    assert len(ok["data"]["balances"]) == 100 and "errors" not in ok
    assert api.upstream() == 1  # 100 identical pairs: one sub-call, one request


def test_invalid_account_is_null_with_error_and_siblings_survive(api: Api, devnet: Devnet) -> None:
    body = api.query(
        """query($good: String!) {
             bad: account(address: "0xZZ") { address }
             typo: account(address: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB49") { address }
             good: account(address: $good) { address }
             chains { id chainId family nativeToken { symbol decimals } }
           }""",
        {"good": devnet.holder},
    )
    assert body["data"]["bad"] is None and body["data"]["typo"] is None
    assert body["data"]["good"]["address"] == devnet.holder
    assert body["data"]["chains"] == [
        {
            "id": "devnet",
            "chainId": 31337,
            "family": "EVM",
            "nativeToken": {"symbol": "ETH", "decimals": 18},
        }
    ]
    codes = errors_by_code(body)
    assert [e["path"] for e in codes["INVALID_ADDRESS"]] == [["bad"], ["typo"]]
    assert "checksum" in codes["INVALID_ADDRESS"][1]["message"]


def test_single_balance_fields_and_negative_max_age(api: Api, devnet: Devnet) -> None:
    weth = devnet.sample.token("WETH").address
    body = api.query(
        """query($a: String!, $t: String!) {
             one: balance(account: $a, chain: "devnet", token: $t) { rawAmount amount }
             nested: account(address: $a) { balance(chain: "devnet", token: $t) { rawAmount } }
             bad: balance(account: $a, chain: "devnet", token: $t, maxAge: -1) { rawAmount }
           }""",
        {"a": devnet.holder, "t": weth},
    )
    raw = devnet.sample.balance(devnet.holder, "WETH")
    assert body["data"]["one"] == {"rawAmount": str(raw), "amount": "0.75"}
    assert body["data"]["nested"]["balance"]["rawAmount"] == str(raw)
    assert body["data"]["bad"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["path"] == ["bad"]
