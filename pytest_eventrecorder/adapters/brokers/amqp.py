"""AMQP 0-9-1 (RabbitMQ, through pika): a private queue bound to the exchange.

The recorder declares its own server-named, exclusive, auto-delete queue and binds it to
the exchange (``?exchange=NAME``, default ``amq.topic``) with ``#`` (or each ``channel=``
binding key), so it receives a copy of every message and takes none from the consumers'
queues; the queue disappears with the connection. Topic and fanout exchanges work this
way (a direct exchange only copies keys bound exactly). Other query options
(``heartbeat``...) go to pika.

Replay publishes to the URL's exchange if it names one, else to the exchange each
message was recorded from, with the recorded routing key, body and properties. Header
values that are AMQP decimals or timestamps are written as text (readable in the
cassette) and listed in the ``header_types`` metadata, so replay sends them with their
AMQP types again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from ...cassette import JSONValue, RecordedEvent
from ...serialize import restore
from ..payload import payload_bytes
from .base import BrokerAdapter, BrokerConnectionError

DEFAULT_EXCHANGE = "amq.topic"
HEADER_TYPES = "header_types"
"""Metadata naming the header values that are AMQP decimals or timestamps."""
_TYPES: dict[str, Callable[[str], object]] = {
    "decimal": Decimal,
    "timestamp": datetime.fromisoformat,
}
_POLL_S = 0.2
_PROPERTIES = (
    "content_type",
    "content_encoding",
    "headers",
    "delivery_mode",
    "priority",
    "correlation_id",
    "reply_to",
    "expiration",
    "message_id",
    "timestamp",
    "type",
    "user_id",
    "app_id",
    "cluster_id",
)


class AmqpAdapter(BrokerAdapter):
    name = "amqp"
    default_ports: ClassVar[Mapping[str, int]] = {"amqp": 5672, "amqps": 5671}
    options = frozenset({"channel", "exchange"})
    client_options = True
    package = "pika"
    extra = "amqp"
    match_all = "#"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.exchange: str | None = self.url.value("exchange", "") or None
        self._channel: Any = None
        self._publisher_thread: threading.Thread | None = None

    def _import_client(self) -> Any:
        try:
            import pika
            import pika.exceptions
        except ImportError:
            raise self._missing() from None
        return pika

    @property
    def record_exchange(self) -> str:
        return self.exchange or DEFAULT_EXCHANGE

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        exc_types = self.client.exceptions
        try:
            yield
        except BrokerConnectionError:
            raise
        except (exc_types.ProbableAuthenticationError, exc_types.AuthenticationError) as exc:
            raise self.error(
                f"authentication failed (check user and password): {_text(exc)}"
            ) from None
        except exc_types.ProbableAccessDeniedError as exc:
            raise self.error(
                f"access denied (check the vhost and permissions): {_text(exc)}"
            ) from None
        except exc_types.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:
                raise ValueError(f"{self.url.redacted}: {exc.reply_text}") from None
            raise self.error(f"{doing}: the broker closed the channel: {_text(exc)}") from None
        except (exc_types.AMQPError, OSError) as exc:
            raise self.error(f"{doing}: {_text(exc)}") from None

    def _connect(self) -> Any:
        pika = self.client
        with self._errors("cannot connect"):
            return pika.BlockingConnection(pika.URLParameters(self.url.client_url()))

    # ------------------------------------------------------------------ recording

    def _start_recording(self) -> None:
        if not self.record_exchange:
            raise ValueError(f"{self.url.redacted}: name an exchange to record from")
        self._start_thread("amqp", self._consume)

    def _consume(self, ready: Callable[[], None]) -> None:
        """Runs on the recording thread: pika connections must stay on one thread."""
        connection = self._connect()
        try:
            with self._errors("cannot subscribe"):
                channel = connection.channel()
                channel.exchange_declare(self.record_exchange, passive=True)
                queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
                for key in self.channels:
                    channel.queue_bind(queue, self.record_exchange, routing_key=key)
                channel.basic_consume(queue, self._on_message, auto_ack=True)
            ready()
            with self._errors("connection lost"):
                while not self._stopping.is_set():
                    connection.process_data_events(time_limit=_POLL_S)
        finally:
            if connection.is_open:
                connection.close()

    def _on_message(self, _channel: Any, method: Any, properties: Any, body: bytes) -> None:
        metadata: dict[str, Any] = {"exchange": method.exchange}
        recorded = {
            n: getattr(properties, n) for n in _PROPERTIES if getattr(properties, n) is not None
        }
        if recorded:
            metadata["properties"] = recorded
        typed = _typed_values(recorded.get("headers"), [])
        if typed:
            metadata[HEADER_TYPES] = typed
        self._deliver(method.routing_key, body, metadata)

    # ------------------------------------------------------------------ replay

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        meta = event.metadata or {}
        recorded_exchange = meta.get("exchange")
        exchange = self.exchange or (
            recorded_exchange if isinstance(recorded_exchange, str) else None
        )
        with self._errors("cannot publish"):
            self._publishing_channel().basic_publish(
                exchange if exchange is not None else DEFAULT_EXCHANGE,
                event.event_name,
                payload_bytes(event, payload),
                self._properties(meta.get("properties"), meta.get(HEADER_TYPES)),
            )

    def open_publisher(self) -> None:
        self._publishing_channel()  # on the thread that will publish: pika's rule

    def _publishing_channel(self) -> Any:
        if self._publisher is not None and threading.current_thread() is not self._publisher_thread:
            raise RuntimeError("an AMQP adapter publishes from one thread only (pika's rule)")
        if self._publisher is None or not self._publisher.is_open:
            self._publisher = self._connect()
            self._publisher_thread = threading.current_thread()
            with self._errors("cannot open a channel"):
                self._channel = self._publisher.channel()
                self._channel.confirm_delivery()  # basic_publish returns once the broker has it
        return self._channel

    def _properties(self, recorded: object, header_types: object) -> Any:
        values = restore(recorded) if isinstance(recorded, dict) else {}
        if header_types is not None:
            _retype(values.get("headers"), header_types)
        if values.get("user_id") not in (None, self.url.username or "guest"):
            values.pop("user_id")  # RabbitMQ refuses a user_id that is not the connection's
        return self.client.BasicProperties(**{k: v for k, v in values.items() if k in _PROPERTIES})

    def _close_publisher(self) -> None:
        connection, self._publisher, self._channel = self._publisher, None, None
        if connection is not None and connection.is_open:
            connection.close()


def _typed_values(value: object, path: list[str | int]) -> list[JSONValue]:
    """``[path, type]`` for each decimal or timestamp in a header table (at any depth):
    the cassette holds them as text, and replay makes them AMQP decimals and timestamps
    again."""
    if isinstance(value, Decimal):
        return [[list(path), "decimal"]]
    if isinstance(value, datetime):
        return [[list(path), "timestamp"]]
    items: Iterable[tuple[str | int, object]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    return [found for key, item in items for found in _typed_values(item, [*path, key])]


def _retype(headers: object, header_types: object) -> None:
    """Turn the recorded text at each ``header_types`` path back into its AMQP type."""
    if not isinstance(header_types, list):
        raise ValueError(f"{HEADER_TYPES} must be a list of [path, type], not {header_types!r}")
    for entry in header_types:
        try:
            path, kind = entry
            *parents, last = path
            table: Any = headers
            for key in parents:
                table = table[key]
            table[last] = _TYPES[kind](table[last])
        except (KeyError, IndexError, TypeError, ValueError, ArithmeticError):
            raise ValueError(
                f"{HEADER_TYPES}: {entry!r} does not name a decimal or timestamp text in the "
                "recorded headers"
            ) from None


def _text(exc: BaseException) -> str:
    """pika's errors often have an empty str(); their args hold the underlying cause."""
    text = str(exc) or "; ".join(repr(arg) for arg in exc.args)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
