"""RequestScope and CacheHints: the lookup budget, and what a response may promise a cache."""

from __future__ import annotations

import pytest

from chains.errors import CostLimitExceeded
from chains.reader import Freshness
from resolvers.scope import CacheHints
from settings import LimitsConfig
from tests.fakes.service import FakeProvider, make_chain, make_scope


def test_no_field_served_promises_the_default_max_age() -> None:
    assert CacheHints(default_max_age=300, price_ttl=60).max_age() == 300


def test_the_smallest_max_age_served_wins() -> None:
    hints = CacheHints(default_max_age=300, price_ttl=60)
    for age in (300, 10, 120):
        hints.served(Freshness(age))
    assert hints.max_age() == 10


def test_served_prices_cap_the_max_age_at_the_price_ttl() -> None:
    hints = CacheHints(default_max_age=300, price_ttl=60)
    hints.served(Freshness(300))
    assert hints.max_age() == 300
    hints.priced()
    assert hints.max_age() == 60
    hints.served(Freshness(5))
    assert hints.max_age() == 5  # still the smallest


def test_prices_alone_promise_the_price_ttl() -> None:
    hints = CacheHints(default_max_age=300, price_ttl=45)
    hints.priced()
    assert hints.max_age() == 45


def test_a_forced_refresh_anywhere_means_no_cache_at_all() -> None:
    hints = CacheHints(default_max_age=300, price_ttl=60)
    hints.served(Freshness(300))
    hints.served(Freshness(0, force_refresh=True))
    hints.served(Freshness(600))
    assert hints.max_age() is None


async def test_charges_add_up_to_the_budget_and_no_further() -> None:
    scope = make_scope(make_chain(FakeProvider("eth")), limits=LimitsConfig(max_lookups=10))
    scope.charge(4)
    scope.charge(6)  # exactly the budget
    assert scope.lookups == 10
    with pytest.raises(CostLimitExceeded, match="more than 10 balance lookups") as info:
        scope.charge(1)
    assert info.value.extensions["code"] == "COST_LIMIT_EXCEEDED"
    assert scope.lookups == 10  # a refused charge spends nothing


async def test_a_refused_charge_leaves_room_for_a_smaller_one() -> None:
    scope = make_scope(make_chain(FakeProvider("eth")), limits=LimitsConfig(max_lookups=5))
    scope.charge(3)
    with pytest.raises(CostLimitExceeded):
        scope.charge(3)
    scope.charge(2)
    assert scope.lookups == 5
