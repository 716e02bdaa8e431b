"""End-to-end: a marked test whose live run publishes dataclass events passes when replayed,
with no events_module option: the handler gets its classes back, and verification holds."""

from __future__ import annotations

import json
import textwrap

import pytest
from plugin_e2e import QUIET_SUBPROCESS, Runner, cassette_file, write_test

ORDERS = '''
    """Typed events: nested dataclasses with Decimal, UUID, datetime, Enum and tuple fields."""
    from __future__ import annotations

    import enum
    from dataclasses import dataclass
    from datetime import datetime, timezone
    from decimal import Decimal
    from uuid import UUID


    class Side(enum.Enum):
        BUY = "buy"
        SELL = "sell"


    @dataclass(frozen=True)
    class Line:
        sku: str
        price: Decimal
        qty: int


    @dataclass(frozen=True)
    class OrderPlaced:
        order_id: UUID
        side: Side
        placed_at: datetime
        lines: tuple[Line, ...]


    @dataclass(frozen=True)
    class OrderAccepted:
        order_id: UUID
        total: Decimal
        lines: int


    class Shop:
        def __init__(self, bus):
            self.bus = bus
            self.accepted = []
            bus.subscribe("OrderPlaced", self.on_order)

        def on_order(self, event):
            # Fails with AttributeError on a dict: the handler needs the real classes.
            assert isinstance(event.placed_at, datetime) and event.side is Side.BUY
            total = sum((line.price * line.qty for line in event.lines), Decimal(0))
            accepted = OrderAccepted(event.order_id, total, len(event.lines))
            self.accepted.append(accepted)
            self.bus.publish("OrderAccepted", accepted, "shop")


    def live_orders(bus):
        for i in range(300):
            bus.publish("OrderPlaced", OrderPlaced(
                UUID(int=i), Side.BUY, datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
                (Line("a", Decimal("1.10"), 2), Line("b", Decimal("0.05"), 1)),
            ), "web")
'''

TEST = """
    import pytest
    from decimal import Decimal
    from orders_app import OrderAccepted, Shop, live_orders


    @pytest.fixture
    def shop(service_bus):
        return Shop(service_bus)


    @pytest.mark.event_cassette(inputs=["OrderPlaced"])
    def test_orders(service_bus, shop, event_cassette):
        event_cassette.play(live=lambda: live_orders(service_bus))
        assert len(shop.accepted) == 300
        assert type(shop.accepted[0]) is OrderAccepted
        assert shop.accepted[0].total == Decimal("2.25")
"""


@pytest.fixture
def typed_project(project: pytest.Pytester) -> pytest.Pytester:
    project.makepyfile(orders_app=textwrap.dedent(ORDERS))
    write_test(project, TEST, name="test_typed")
    return project


def test_typed_events_are_rebuilt_on_replay_and_verified(
    typed_project: pytest.Pytester, run_inprocess: Runner
) -> None:
    run_inprocess().assert_outcomes(passed=1)
    cassette = json.loads(cassette_file(typed_project, "test_orders", "test_typed").read_text())
    placed = [e for e in cassette["events"] if e["event_name"] == "OrderPlaced"]
    assert len(placed) == 300
    assert placed[0]["event_type"] == "orders_app:OrderPlaced"
    replayed = typed_project.runpytest_subprocess(*QUIET_SUBPROCESS, "--record-mode=none")
    replayed.assert_outcomes(passed=1)
    assert "RebuildWarning" not in replayed.stdout.str()


def test_a_changed_output_still_fails_verification(
    typed_project: pytest.Pytester, run_inprocess: Runner
) -> None:
    run_inprocess().assert_outcomes(passed=1)
    source = typed_project.path / "orders_app.py"
    source.write_text(source.read_text().replace("len(event.lines))", "len(event.lines) + 1)"))
    result = typed_project.runpytest_subprocess(*QUIET_SUBPROCESS, "--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*changed 'OrderAccepted'*", "*event_data.lines: 2 != 3*"])
