"""What every bus adapter provides: capture everything a bus carries, and publish into it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from ..cassette import JSONValue, RecordedEvent
from ..serialize import DEFAULT_REDACTION, Redaction


class EventSink(Protocol):
    """Receives each captured event; the recorder is one.

    A sink names the redaction it applies by a ``redaction`` attribute, on itself or on the
    object it is a method of (the recorder's ``_keep``): an adapter that keeps a payload's
    raw bytes beside its decoded data applies it too (see :func:`redaction_of`)."""

    def __call__(
        self,
        event_name: str,
        event: object,
        source: str | None = None,
        metadata: Mapping[str, JSONValue] | None = None,
        *,
        received_ns: int | None = None,
    ) -> None:
        """``received_ns``: when the event arrived (``time.perf_counter_ns()``), for an
        adapter that hands events over later than it received them; default: now.

        A sink that also takes ``more: bool = False`` is given ``more=True`` for each event
        of a batch but the last (broker adapters write in batches): it may hold those back
        and write them with the last one."""


@runtime_checkable
class BusAdapter(Protocol):
    """A live connection between the recorder/replayer and one bus."""

    name: str

    def attach(self, sink: EventSink) -> None:
        """Start passing every event the bus carries to ``sink`` (before subscribers see it)."""

    def detach(self) -> None:
        """Stop capturing and leave the bus exactly as it was before :meth:`attach`."""

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        """Publish one recorded event; ``payload`` is the rebuilt event object.

        May return an awaitable for asyncio buses; the async replayer awaits it.
        """

    def close(self) -> None:
        """Release connections the adapter opened itself (no-op for in-process buses)."""


def redaction_of(sink: EventSink) -> Redaction:
    """The redaction ``sink`` applies to what it keeps (see :class:`EventSink`); the default
    one when it names none."""
    for holder in (sink, getattr(sink, "__self__", None)):
        named = getattr(holder, "redaction", None)
        if isinstance(named, Redaction):
            return named
    return DEFAULT_REDACTION
