"""RequestScope and CacheHints: the lookup budget, and until when an answer stays as fresh as
its fields promised."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chains.reader import Freshness
from core.errors import CostLimitExceeded
from resolvers.scope import CacheHints
from settings import LimitsConfig
from tests.fakes.service import FakeProvider, make_chain, make_scope

NOW = 1_800_000_000.0


def hints() -> CacheHints:
    return CacheHints(default_max_age=300, price_ttl=60)


def test_no_field_served_promises_the_default_max_age() -> None:
    assert hints().expires_at(NOW) == NOW + 300


def test_the_smallest_max_age_served_counts_from_the_oldest_value_read() -> None:
    served = hints()
    for age in (300, 10, 120):
        served.served(Freshness(age))
    assert served.expires_at(NOW) == NOW + 10  # nothing read yet: from now
    served.read(datetime.fromtimestamp(NOW - 4, UTC))
    served.read(datetime.fromtimestamp(NOW - 1, UTC))
    assert served.expires_at(NOW) == NOW - 4 + 10  # what the oldest value has left


def test_served_prices_expire_with_the_oldest_price_fetched() -> None:
    served = hints()
    served.served(Freshness(300))
    served.read(datetime.fromtimestamp(NOW, UTC))
    assert served.expires_at(NOW) == NOW + 300
    served.priced(NOW - 50)
    served.priced(NOW - 10)
    assert served.prices and served.expires_at(NOW) == NOW - 50 + 60
    served.served(Freshness(5))
    assert served.expires_at(NOW) == NOW + 5  # still the soonest


def test_prices_alone_expire_with_the_price_cache() -> None:
    served = CacheHints(default_max_age=300, price_ttl=45)
    served.priced(NOW)
    assert served.expires_at(NOW) == NOW + 45


def test_a_forced_refresh_anywhere_means_no_cache_at_all() -> None:
    served = hints()
    served.served(Freshness(300))
    served.served(Freshness(0, force_refresh=True))
    served.served(Freshness(600))
    assert served.expires_at(NOW) is None


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
