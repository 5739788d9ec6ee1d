"""Regressions for defects a code review found; each of these failed before its fix."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Api, Devnet, devnet_settings, serve


def test_chain_ids_spelled_differently_are_one_chain(api: Api, devnet: Devnet) -> None:
    body = api.query(
        '{ account(address: "%s") { balances(chains: ["devnet", "Devnet", " devnet"], '
        'tokens: ["native"]) { chain rawAmount } } }' % devnet.holder
    )
    assert len(body["data"]["account"]["balances"]) == 1


def test_an_address_without_code_is_a_definite_error_and_is_not_cached(
    api: Api, devnet: Devnet
) -> None:
    empty = "0x00000000000000000000000000000000000b0b0b"
    query = '{ token(chain: "devnet", address: "%s") { symbol decimals } }' % empty
    body = api.query(query)
    assert body["data"]["token"] is None
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_CALL_FAILED"
    artifact = devnet.chain.artifacts["NoDecimalsToken"]
    devnet.chain.set_code(empty, artifact.deployed_bytecode)  # the token is deployed later
    later = api.query(query)
    assert "errors" not in later  # nothing negative was cached
    assert later["data"]["token"] == {"symbol": None, "decimals": None}


def test_a_bad_argument_on_root_balances_keeps_its_siblings(api: Api, devnet: Devnet) -> None:
    body = api.query(
        '{ chains { id } b: balance(account: "%s", chain: "devnet", token: "native") '
        "{ rawAmount } balances(pairs: [], maxAge: -1) { chain } }" % devnet.holder
    )
    assert body["data"]["chains"] == [{"id": "devnet"}]
    assert body["data"]["b"]["rawAmount"] == str(devnet.chain.get_balance(devnet.holder))
    assert body["data"]["balances"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_oversized_bodies_and_chain_lists_are_refused(api: Api, devnet: Devnet) -> None:
    huge = api.client.post(
        "/graphql",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    chains = ", ".join(f'"c{i}"' for i in range(500))
    body = api.query(
        '{ account(address: "%s") { balances(chains: [%s]) { chain } } }' % (devnet.holder, chains)
    )
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"


def test_a_chain_without_multicall3_is_one_error_naming_the_chain_not_a_token(
    tmp_path: Path, devnet: Devnet
) -> None:
    missing = "0x000000000000000000000000000000000000dEaD"
    for api in serve(devnet_settings(tmp_path, devnet, multicall3=missing)):
        body = api.query('{ account(address: "%s") { balances { chain } } }' % devnet.holder)
        assert body["data"]["account"]["balances"] == []
        (error,) = body["errors"]
        assert error["extensions"] == {
            "code": "CHAIN_MISCONFIGURED",
            "chain": "devnet",
            "account": devnet.holder,
            "retryable": False,
        }
        assert "Multicall3" in error["message"]
