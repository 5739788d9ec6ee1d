"""Who is calling: keys from headers, client addresses through trusted proxies only."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from metering import keys
from metering.caller import ConflictingKeys, client_subject, presented_key

KEY = keys.new_key()
PROXIES = (ip_network("10.0.0.0/8"), ip_network("fd00::/8"))


@pytest.mark.parametrize(
    "headers",
    [
        [("api-key", KEY)],
        [("x-api-key", f"  {KEY} ")],
        [("authorization", f"Bearer {KEY}")],
        [("authorization", f"bearer   {KEY}")],
        [("x-api-key", KEY), ("authorization", f"Bearer {KEY}")],  # the same key twice is fine
        [("x-api-key", ""), ("api-key", KEY)],  # GraphiQL's empty header is no key
    ],
)
def test_a_key_is_read_from_any_of_the_reference_apis_headers(
    headers: list[tuple[str, str]],
) -> None:
    assert presented_key(headers) == KEY


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("x-api-key", "")],
        [("authorization", "Basic dXNlcjpwYXNz")],  # not ours
        [("authorization", "Bearer ")],
        [("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig")],  # someone else's token
        [("cookie", f"api-key={KEY}")],
    ],
)
def test_no_key_means_anonymous(headers: list[tuple[str, str]]) -> None:
    assert presented_key(headers) is None


def test_two_different_keys_are_refused_not_guessed_between() -> None:
    with pytest.raises(ConflictingKeys):
        presented_key([("x-api-key", KEY), ("api-key", keys.new_key())])


def test_keys_are_random_well_formed_and_stored_as_a_digest() -> None:
    made = {keys.new_key() for _ in range(100)}
    assert len(made) == 100 and all(keys.well_formed(k) for k in made)
    assert keys.digest(KEY) == keys.digest(KEY) and KEY not in keys.digest(KEY)
    assert len(keys.digest(KEY)) == 64
    for wrong in ("", KEY[:-1], KEY + "x", KEY.replace("bgk_", "bgx_"), f"{KEY[:-1]}!"):
        assert not keys.well_formed(wrong)


def test_a_direct_client_is_its_peer_whatever_it_claims() -> None:
    assert client_subject("203.0.113.9", ["198.51.100.1"], PROXIES) == "ip:203.0.113.9"
    assert client_subject("203.0.113.9", ["198.51.100.1"], ()) == "ip:203.0.113.9"


def test_behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right() -> None:
    assert client_subject("10.0.0.2", ["198.51.100.7"], PROXIES) == "ip:198.51.100.7"
    # the client wrote the left part itself; the proxies appended the rest
    spoofed = ["6.6.6.6, 198.51.100.7, 10.0.0.5"]
    assert client_subject("10.0.0.2", spoofed, PROXIES) == "ip:198.51.100.7"
    split = ["6.6.6.6", "198.51.100.7, 10.0.0.5"]  # one header per proxy, in order
    assert client_subject("10.0.0.2", split, PROXIES) == "ip:198.51.100.7"


def test_garbage_in_forwarded_for_stops_the_walk_at_the_last_address_believed() -> None:
    assert client_subject("10.0.0.2", ["198.51.100.7, nonsense"], PROXIES) == "ip:10.0.0.2"
    assert client_subject("10.0.0.2", [], PROXIES) == "ip:10.0.0.2"
    assert client_subject("10.0.0.2", ["10.0.0.3"], PROXIES) == "ip:10.0.0.3"  # all trusted


def test_ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() -> None:
    one = client_subject("2001:db8:1:2::1", [], ())
    assert one == client_subject("2001:db8:1:2:ffff::9", [], ()) == "ip:2001:db8:1:2::/64"
    assert one != client_subject("2001:db8:1:3::1", [], ())
    assert client_subject("::ffff:198.51.100.7", [], ()) == "ip:198.51.100.7"
    assert client_subject("fd00::1", ["2001:db8::5"], PROXIES) == "ip:2001:db8::/64"


def test_a_peer_without_an_address_is_still_a_subject() -> None:
    assert client_subject(None, ["198.51.100.7"], PROXIES) == "ip:unknown"
    assert client_subject("testclient", [], PROXIES) == "ip:testclient"
