"""The generated recording wrapper behaves exactly like the method it shadows."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

from pytest_eventrecorder.adapters import MethodAdapter
from pytest_eventrecorder.adapters.fastwrap import signature_wrapper

_DEFAULT: list[int] = []


class Bus:
    def publish(self, event_name: str, event: object, source: Any = "default-src") -> tuple:
        return (event_name, event, source)

    def send(self, payload: object, /, topic: str, extra: list[int] = _DEFAULT) -> object:
        return (topic, payload, extra)

    def fire(self, topic: str, **data: object) -> None:
        pass

    async def apublish(self, event_name: str, event: object, source: str | None = None) -> int:
        return 7


def attached(bus: object, method: str = "publish", **names: Any) -> tuple[MethodAdapter, list]:
    seen: list[tuple[Any, ...]] = []
    adapter = MethodAdapter(bus, method, **names)
    adapter.attach(
        lambda name, event, source=None, metadata=None: seen.append((name, event, source))
    )
    return adapter, seen


def wrong_call_errors(publish: Any) -> list[str]:
    messages = []
    for args, kwargs in [
        ((1, 2, 3, 4), {}),
        (("A",), {}),
        (("A", 1), {"x": 2}),
        (("A", 1), {"event": 2}),
    ]:
        with pytest.raises(TypeError) as info:
            publish(*args, **kwargs)
        messages.append(str(info.value))
    return messages


def test_the_wrapper_is_generated_with_the_exact_signature() -> None:
    bus = Bus()
    before = inspect.signature(bus.publish)
    adapter, _ = attached(bus)
    assert "recording_publish" in bus.publish.__code__.co_name  # type: ignore[attr-defined]
    assert inspect.signature(bus.publish) == before
    assert bus.publish.__name__ == "publish"
    assert bus.publish.__qualname__ == "Bus.publish"
    assert bus.publish.__doc__ == Bus.publish.__doc__
    adapter.detach()


def test_every_call_shape_is_captured_and_returns_what_the_original_returns() -> None:
    bus = Bus()
    adapter, seen = attached(bus)
    assert bus.publish("A", 1) == ("A", 1, "default-src")
    assert bus.publish("A", 2, "s") == ("A", 2, "s")
    assert bus.publish(event=3, event_name="B") == ("B", 3, "default-src")
    assert bus.publish("C", 4, source=5) == ("C", 4, 5)
    adapter.detach()
    assert seen == [("A", 1, "default-src"), ("A", 2, "s"), ("B", 3, "default-src"), ("C", 4, "5")]


def test_wrong_calls_raise_the_originals_type_error_and_record_nothing() -> None:
    bus = Bus()
    expected = wrong_call_errors(bus.publish)
    adapter, seen = attached(bus)
    assert wrong_call_errors(bus.publish) == expected
    adapter.detach()
    assert seen == []


def test_positional_only_parameters_and_shared_defaults() -> None:
    bus = Bus()
    before = inspect.signature(bus.send)
    adapter, seen = attached(bus, "send", name_arg="topic", event_arg="payload", source_arg=None)
    assert inspect.signature(bus.send) == before
    assert bus.send(1, "t")[2] is _DEFAULT  # the very default object, not a copy
    with pytest.raises(TypeError, match="positional-only"):
        bus.send(payload=1, topic="t")
    adapter.detach()
    assert seen == [("t", 1, None)]


def test_a_coroutine_method_gets_an_async_wrapper() -> None:
    bus = Bus()
    adapter, seen = attached(bus, "apublish")
    assert inspect.iscoroutinefunction(bus.apublish)
    assert asyncio.run(bus.apublish("A", 1)) == 7
    adapter.detach()
    assert seen == [("A", 1, None)]


def test_other_shapes_are_left_to_the_generic_wrapper() -> None:
    def sink(*args: object) -> None:
        pass

    bus = Bus()
    assert signature_wrapper(bus.fire, sink, lambda: None, ("topic", "data", None)) is None
    assert signature_wrapper(print, sink, lambda: None, ("a", "b", None)) is None
    adapter, seen = attached(bus, "fire", name_arg="topic", event_arg="data", source_arg=None)
    bus.fire("t", x=1)
    adapter.detach()
    assert seen == [("t", {"x": 1}, None)]


def test_a_plain_function_attribute_is_wrapped_without_binding() -> None:
    class Holder:
        pass

    holder = Holder()
    holder.publish = lambda event_name, event, source=None: event  # type: ignore[attr-defined]
    adapter, seen = attached(holder)
    assert holder.publish("A", 1) == 1  # type: ignore[attr-defined]
    adapter.detach()
    assert seen == [("A", 1, None)]


def test_detach_restores_exactly() -> None:
    bus = Bus()
    adapter, _ = attached(bus)
    assert "publish" in vars(bus)
    adapter.detach()
    assert "publish" not in vars(bus)
    assert bus.publish.__func__ is Bus.publish  # type: ignore[attr-defined]
