"""Bitcoin address parsing against the published vectors.

Sources: BIP-173 and BIP-350 test vectors (bitcoin/bips), Bitcoin Core's
src/test/data/key_io_valid.json (testnet/signet/regtest addresses with their scripts), the
genesis block's P2PKH address and the Bitcoin wiki's P2SH example.
"""

from __future__ import annotations

import hashlib

import pytest

from chains.bitcoin.addresses import (
    Encoding,
    bech32_decode,
    bitcoin_script_pubkey,
    decode_base58check,
    normalize_bitcoin_address,
)
from core.errors import InvalidAddress

# BIP-350: valid segwit addresses and the scriptPubKey they pay to.
BIP350_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]

# BIP-350: invalid segwit addresses (reason as given in the BIP).
BIP350_INVALID = [
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",  # invalid HRP
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # bech32 for v1
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",  # bech32 for v2
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # bech32 for v16
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # bech32m for v0
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",  # bech32m for v0
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # bad char in checksum
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # witness version 17
    "bc1pw5dgrnzv",  # program of 1 byte
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",  # 41 bytes
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 program of 16 bytes
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",  # mixed case
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",  # >4 bits of padding
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",  # non-zero padding
    "bc1gmk9yu",  # empty data section
]

# BIP-173: invalid segwit addresses, plus its v1+ "valid" ones, which BIP-350 made invalid
# (they carry a bech32 checksum where bech32m is now required).
BIP173_INVALID = [
    "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
    "bc1rw5uspcuh",
    "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
    "bc1gmk9yu",
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
    "BC1SW50QA3JX3S",
    "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
]

# Bitcoin Core key_io_valid.json: (address, network, scriptPubKey).
CORE_VALID = [
    (
        "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo",
        "mainnet",
        "76a914a31c06bd463e3923bc1aadbde48b16976c08071788ac",
    ),
    (
        "36j4NfKv6Akva9amjWrLG6MuSQym1GuEmm",
        "mainnet",
        "a914373b819a068f32b7a6b38b6b38729647cfde01c287",
    ),
    (
        "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ",
        "testnet",
        "76a914ce28b26c57472737f5c3561a1761185bd8589a4388ac",
    ),
    (
        "2NC2hEhe28ULKAJkW5MjZ3jtTMJdvXmByvK",
        "testnet",
        "a914ce0bba75891ff9ec60148d4bd4a09ee2dc5c933187",
    ),
    (
        "mww4LvqtTMKvmeQvizPz2EQv26xTneWrbg",
        "signet",
        "76a914b4110ba93ac54afc14da3bdd19614774a2d55d2988ac",
    ),
    (
        "2N1r7aC69VHeE7yQJPDLi9T1PYq4wnwvjuT",
        "signet",
        "a9145e5a35ab44b3efaea5129ba22b88ba3e2976614587",
    ),
    (
        "n4fajahJrAuKbN7uNsKjLjQkz9Qn5ewJXQ",
        "regtest",
        "76a914fdeca3b08e38af53d7c4c60e3ad208ce5066441088ac",
    ),
    (
        "2MxFajLApXpYk4VodBSZSt7rw8y4ryABkfA",
        "regtest",
        "a91436e9f191e0b75036a77f65e2eaa4752443233fbe87",
    ),
    (
        "bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv",
        "mainnet",
        "00146100fc6343edc8c874496cb2f5bbfec88ea9b77c",
    ),
    (
        "bc1p83n3au0rjylefxq2nc2xh2y4jzz4pm6zxj4mw5pagdjjr2a9f36s6jjnnu",
        "mainnet",
        "51203c671ef1e3913f94980a9e146ba895908550ef4234abb7503d436521aba54c75",
    ),
    ("bc1z2rksukkjr8", "mainnet", "520250ed"),
    (
        "tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54",
        "testnet",
        "0014c0ef1202759fff90ff19128936814321ee59e111",
    ),
    ("tb1rgv5m6uvdk3kc7qsuz0c79v88ycr5w4wa", "signet", "53104329bd718db46d8f021c13f1e2b0e726"),
    (
        "bcrt1qdavt4j2sd7dlhqsavtnfxvzppw6k7qy97tmnu9",
        "regtest",
        "00146f58bac9506f9bfb821d62e69330410bb56f0085",
    ),
    (
        "bcrt1pfwxjqvtt4tcxrtdluukfmy2dv7xd2qzdfy6kajv5nwn4yam3wxkq3553uh",
        "regtest",
        "51204b8d20316baaf061adbfe72c9d914d678cd5004d49356ec9949ba752777171ac",
    ),
]

GENESIS_P2PKH = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
WIKI_P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"


def network_of(address: str) -> str:
    return "testnet" if address.lower().startswith("tb1") else "mainnet"


def test_bip350_valid_addresses_normalize_lower_case_and_pay_their_script() -> None:
    for address, script in BIP350_VALID:
        network = network_of(address)
        assert normalize_bitcoin_address(address, network) == address.lower()
        assert bitcoin_script_pubkey(address, network).hex() == script, address


def test_bip350_invalid_addresses_are_rejected() -> None:
    for address in BIP350_INVALID:
        with pytest.raises(InvalidAddress):
            normalize_bitcoin_address(address, network_of(address))


def test_bip173_invalid_addresses_and_bech32_v1_addresses_are_rejected() -> None:
    for address in BIP173_INVALID:
        with pytest.raises(InvalidAddress):
            normalize_bitcoin_address(address, network_of(address))


def test_wrong_checksum_variant_is_named() -> None:
    with pytest.raises(InvalidAddress, match="needs bech32m, not bech32"):
        normalize_bitcoin_address("bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj")
    with pytest.raises(InvalidAddress, match="needs bech32, not bech32m"):
        normalize_bitcoin_address("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh")


def test_precise_messages_for_segwit_mistakes() -> None:
    cases = {
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5": "bad checksum",
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7": "mixes upper and lower",
        "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2": "witness version",
        "bc1pw5dgrnzv": "program length",
        "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P": "v0 program length",
        "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty": "unknown human-readable part 'tc'",
        "bc1gmk9yu": "empty data section",
    }
    for address, message in cases.items():
        with pytest.raises(InvalidAddress, match=message):
            normalize_bitcoin_address(address, network_of(address))


def test_bip173_bech32_strings_decode_and_bip350_strings_are_bech32m() -> None:
    for text in [
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
        "?1ezyfcl",
    ]:
        assert bech32_decode(text)[2] is Encoding.BECH32, text
    for text in [
        "A1LQFN3A",
        "a1lqfn3a",
        "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
        "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
        "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
        "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
        "?1v759aa",
    ]:
        assert bech32_decode(text)[2] is Encoding.BECH32M, text


def test_bip173_and_bip350_invalid_bech32_strings() -> None:
    for text in [
        "\x201nwldj5",
        "\x7f1axkwrx",
        "\x801eym55h",
        "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
        "pzry9x0s0muk",
        "1pzry9x0s0muk",
        "x1b4n0q5v",
        "li1dgmt3",
        "de1lg7wt\xff",
        "A1G7SGD8",
        "10a06t8",
        "1qzzfhee",
        "\x201xj0phk",
        "\x7f1g6xzxy",
        "\x801vctc34",
        "qyrz8wqd2c9m",
        "1qyrz8wqd2c9m",
        "y1b0jsk6g",
        "lt1igcx5c0",
        "in1muywd",
        "mm1crxm3i",
        "au1s5cgom",
        "M1VUXWEZ",
        "16plkw9",
        "1p2gdwpf",
    ]:
        with pytest.raises(InvalidAddress):
            bech32_decode(text)


def test_bitcoin_core_vectors_for_every_network() -> None:
    for address, network, script in CORE_VALID:
        assert normalize_bitcoin_address(address, network) == address
        assert bitcoin_script_pubkey(address, network).hex() == script, address


def test_segwit_upper_case_is_accepted_and_lower_cased() -> None:
    upper = "BC1QVYQ0CC6RAHYVSAZFDJE0TWL7EZ82NDMUAC2LHV"
    assert normalize_bitcoin_address(upper) == upper.lower()
    assert normalize_bitcoin_address(f"  {upper.lower()}\n") == upper.lower()


def test_base58_genesis_p2pkh_and_p2sh_are_returned_as_given() -> None:
    assert normalize_bitcoin_address(GENESIS_P2PKH) == GENESIS_P2PKH
    assert decode_base58check(GENESIS_P2PKH).hex() == "0062e907b15cbf27d5425399ebf6f0fb50ebb88f18"
    assert normalize_bitcoin_address(WIKI_P2SH) == WIKI_P2SH
    assert decode_base58check(WIKI_P2SH)[0] == 0x05


def test_testnet_address_on_mainnet_is_wrong_network() -> None:
    for address in [
        "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ",
        "2NC2hEhe28ULKAJkW5MjZ3jtTMJdvXmByvK",
        "tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54",
        "bcrt1qdavt4j2sd7dlhqsavtnfxvzppw6k7qy97tmnu9",
    ]:
        with pytest.raises(InvalidAddress, match="wrong network"):
            normalize_bitcoin_address(address, "mainnet")


def test_mainnet_address_on_testnet_and_regtest_is_wrong_network() -> None:
    for network in ("testnet", "signet", "regtest"):
        for address in [GENESIS_P2PKH, WIKI_P2SH, "bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv"]:
            with pytest.raises(InvalidAddress, match="wrong network"):
                normalize_bitcoin_address(address, network)
    with pytest.raises(InvalidAddress, match="wrong network"):
        normalize_bitcoin_address("tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54", "regtest")


def test_corrupted_base58_checksum_is_a_bad_checksum() -> None:
    corrupted = GENESIS_P2PKH[:-1] + "b"
    with pytest.raises(InvalidAddress, match="bad checksum"):
        normalize_bitcoin_address(corrupted)


def test_base58_with_unknown_version_or_length_is_rejected() -> None:
    def encode(payload: bytes) -> str:
        raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
        number = int.from_bytes(raw, "big")
        digits = ""
        while number:
            number, rem = divmod(number, 58)
            digits = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"[rem] + digits
        return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + digits

    assert encode(bytes.fromhex("0062e907b15cbf27d5425399ebf6f0fb50ebb88f18")) == GENESIS_P2PKH
    litecoin_like = encode(bytes([0x30]) + bytes(20))
    with pytest.raises(InvalidAddress, match="unknown version byte 0x30"):
        normalize_bitcoin_address(litecoin_like)
    with pytest.raises(InvalidAddress, match="invalid length"):
        normalize_bitcoin_address(encode(bytes(22)))


def test_garbage_is_rejected_with_a_reason() -> None:
    for text, message in [
        ("", "empty"),
        ("   ", "empty"),
        ("0x" + "ab" * 20, "not a base58 character"),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNaI", "not a base58 character"),
        ("1" * 100, "too long"),
    ]:
        with pytest.raises(InvalidAddress, match=message):
            normalize_bitcoin_address(text)


def test_unknown_network_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown Bitcoin network"):
        normalize_bitcoin_address(GENESIS_P2PKH, "litecoin")
