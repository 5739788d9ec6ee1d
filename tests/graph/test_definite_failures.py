"""Definite chain failures: reported once with their precise code, never cached.

An address without code is TOKEN_CALL_FAILED and is asked again later (it may be deployed); a
chain without Multicall3 at its configured address is one CHAIN_MISCONFIGURED naming it.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Api, Devnet, devnet_settings, serve


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
    assert later["data"]["token"] == {"symbol": None, "decimals": None}
    (why,) = later["errors"]  # nothing negative was cached: the contract is read anew ...
    assert why["path"] == ["token", "decimals"]  # ... and has no decimals(), which is said
    assert why["extensions"]["code"] == "TOKEN_METADATA_UNAVAILABLE"
    assert why["extensions"]["retryable"] is False  # a definite answer, not garbage


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
