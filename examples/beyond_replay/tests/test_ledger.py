"""explore(): the deposits replayed as a broker may deliver them. This test FAILS: it finds
the planted bug (a deposit delivered twice is credited twice)."""

from __future__ import annotations

import pytest
from shop import Ledger, ServiceBus, deposits

from pytest_eventrecorder import EventCassette


@pytest.fixture
def service_bus() -> ServiceBus:
    return ServiceBus()


@pytest.mark.event_cassette(inputs=["Deposit"])
def test_balance_survives_redelivery(
    service_bus: ServiceBus, event_cassette: EventCassette
) -> None:
    ledger = Ledger(service_bus)
    event_cassette.play(live=lambda: deposits(service_bus))
    assert ledger.balance == 60
    event_cassette.explore(lambda: ledger.balance == 60, setup=ledger.reset)
