"""Domain values: a token's canonical string, and the labels a key gives its errors."""

from __future__ import annotations

from core.models import (
    NATIVE,
    NATIVE_TOKEN,
    BalanceKey,
    TokenMeta,
    TokenRef,
    TokenStandard,
)

CONTRACT = "0x5Af0D9827E0c53E4799BB226655A1de152A425a5"


def test_a_token_prints_as_contract_or_contract_and_id() -> None:
    assert str(TokenRef(CONTRACT)) == CONTRACT
    assert str(TokenRef(CONTRACT, 7)) == f"{CONTRACT}:7"
    assert str(TokenRef(CONTRACT, 0)) == f"{CONTRACT}:0"  # id 0 is an id, not "no id"
    assert str(NATIVE_TOKEN) == NATIVE == "native"


def test_only_the_native_token_is_native() -> None:
    assert NATIVE_TOKEN.is_native
    assert not TokenRef(CONTRACT).is_native
    assert TokenRef(CONTRACT, 1) != TokenRef(CONTRACT, 2) != TokenRef(CONTRACT)


def test_a_key_labels_its_errors_with_the_canonical_token() -> None:
    key = BalanceKey("base", "0xA", TokenRef(CONTRACT, 7))
    assert key.labels == {"chain": "base", "account": "0xA", "token": f"{CONTRACT}:7"}


def test_token_meta_exposes_contract_and_id_of_its_token() -> None:
    meta = TokenMeta("base", TokenRef(CONTRACT, 7), TokenStandard.ERC1155, None, None, 0)
    assert (meta.contract, meta.token_id) == (CONTRACT, 7)
    assert meta.spam is False and meta.logo is None
