"""Redis: pub/sub through PSUBSCRIBE, and Streams through XREAD (no consumer group).

Neither takes anything from other clients: every pub/sub subscriber gets its own copy,
and a plain XREAD leaves consumer groups untouched. ``?streams=a,b`` records new entries
of those streams; ``channel=`` options are PSUBSCRIBE glob patterns (default ``*``).
Other query options (``socket_timeout``...) go to redis-py.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ...cassette import JSONValue, RecordedEvent
from ...serialize import restore
from ..payload import decode_payload, encode_payload, payload_bytes
from .base import BrokerAdapter, BrokerConnectionError

_READ_BLOCK_MS = 200
STREAM_KIND = "stream"
FIELDS_KEY = "fields_b64"
"""Metadata holding a stream entry's exact field names and values when decoding is lossy."""


class RedisAdapter(BrokerAdapter):
    name = "redis"
    default_ports: ClassVar[Mapping[str, int]] = {"redis": 6379, "rediss": 6379}
    options = frozenset({"channel", "streams"})
    client_options = True
    package = "redis"
    extra = "redis"
    match_all = "*"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.streams = self.url.values("streams")
        database = urlsplit(url).path.strip("/")
        if database and not database.isdigit():
            raise ValueError(
                f"{self.url.redacted}: the path names a database by number (/0), not {database!r}"
            )

    def _import_client(self) -> Any:
        try:
            import redis
            import redis.backoff
            import redis.retry
        except ImportError:
            raise self._missing() from None
        return redis

    def _connect(self, retries: int = 2) -> Any:
        redis = self.client
        retry = redis.retry.Retry(redis.backoff.ExponentialBackoff(cap=1.0, base=0.1), retries)
        with self._errors("cannot connect"):
            client = redis.Redis.from_url(
                self.url.client_url(), retry=retry, socket_connect_timeout=5.0
            )
            try:
                client.ping()  # the first connection is made here
            except TypeError as exc:  # a query option redis-py does not know
                raise ValueError(f"{self.url.redacted}: unknown option ({exc})") from None
        return client

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        exceptions = self.client.exceptions
        try:
            yield
        except BrokerConnectionError:
            raise
        except (exceptions.AuthenticationError, exceptions.AuthorizationError) as exc:
            raise self.error(f"authentication failed (check user and password): {exc}") from None
        except exceptions.ResponseError as exc:
            if any(word in str(exc) for word in ("AUTH", "WRONGPASS", "NOPERM")):
                raise self.error(f"authentication failed: {exc}") from None
            raise self.error(f"{doing}: the server refused: {exc}") from None
        except (exceptions.ConnectionError, exceptions.TimeoutError, OSError) as exc:
            raise self.error(f"{doing}: {exc}") from None

    # ------------------------------------------------------------------ recording

    def _start_recording(self) -> None:
        self._start_thread("redis-pubsub", self._listen_pubsub)
        if self.streams:
            self._start_thread("redis-streams", self._read_streams)

    def _listen_pubsub(self, ready: Callable[[], None]) -> None:
        # No reconnecting: pub/sub keeps nothing for an absent subscriber, so a reconnect
        # would leave a hole nobody sees. A lost connection ends the recording, reported.
        # (Streams reconnect freely: XREAD resumes after the last entry read.)
        client = self._connect(retries=0)
        pubsub = client.pubsub()
        try:
            with self._errors("cannot subscribe"):
                pubsub.psubscribe(*self.channels)
                self._await_confirmations(pubsub)
            ready()
            with self._errors("connection lost"):
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=_READ_BLOCK_MS / 1000)
                    if message is not None and message["type"] == "pmessage":
                        self._on_message(message)
        finally:
            pubsub.close()
            client.close()

    def _await_confirmations(self, pubsub: Any) -> None:
        pending = len(set(self.channels))
        while pending:
            message = pubsub.get_message(timeout=5.0)
            if message is None:
                raise self.error("no PSUBSCRIBE confirmation within 5 s")
            if message["type"] == "psubscribe":
                pending -= 1

    def _on_message(self, message: Mapping[str, Any]) -> None:
        channel, exact = _text(message["channel"])
        metadata: dict[str, JSONValue] = {"pattern": _text(message["pattern"])[0]}
        if not exact:
            metadata["channel_b64"] = _b64(message["channel"])
        self._deliver(channel, message["data"], metadata)

    def _read_streams(self, ready: Callable[[], None]) -> None:
        client = self._connect()
        try:
            with self._errors("cannot read streams"):
                positions = {key: self._last_id(client, key) for key in self.streams}
            ready()
            with self._errors("connection lost"):
                while not self._stopping.is_set():
                    answer = client.xread(positions, block=_READ_BLOCK_MS, count=100)
                    for key, entries in answer or ():
                        for entry_id, fields in entries:
                            positions[_text(key)[0]] = entry_id
                            self._on_entry(_text(key)[0], entry_id, fields)
        finally:
            client.close()

    def _last_id(self, client: Any, key: str) -> bytes | str:
        """Where to start reading: after the newest entry, so only new ones are recorded."""
        newest = client.xrevrange(key, count=1)
        return newest[0][0] if newest else "0-0"

    def _on_entry(self, key: str, entry_id: bytes, fields: Mapping[bytes | str, bytes]) -> None:
        data, exact = _decode_fields(fields)
        metadata: dict[str, JSONValue] = {"kind": STREAM_KIND, "id": _text(entry_id)[0]}
        if not exact:
            metadata[FIELDS_KEY] = [[_b64(k), _b64(v)] for k, v in fields.items()]
        self._deliver_data(key, data, metadata)

    # ------------------------------------------------------------------ replay

    def _connect_publisher(self) -> Any:
        return self._connect()

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        client = self._publishing(self._connect_publisher)
        meta = event.metadata or {}
        with self._errors("cannot publish"):
            if meta.get("kind") == STREAM_KIND or event.event_name in self.streams:
                return client.xadd(event.event_name, _entry_fields(event, payload))
            channel = _exact_bytes(meta.get("channel_b64"), event.event_name)
            return client.publish(channel, payload_bytes(event, payload))

    def _close_publisher(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None


def _b64(raw: bytes | str) -> str:
    return base64.b64encode(raw if isinstance(raw, bytes) else raw.encode()).decode("ascii")


def _text(raw: bytes | str) -> tuple[str, bool]:
    """A channel/key/field name as text, and whether that text gives back the same bytes."""
    if isinstance(raw, str):
        return raw, True
    text = raw.decode("utf-8", "backslashreplace")
    return text, text.encode("utf-8") == raw


def _exact_bytes(encoded: object, name: str) -> bytes | str:
    """A non-UTF-8 channel name's recorded bytes, while ``name`` still matches them."""
    if isinstance(encoded, str):
        raw = base64.b64decode(encoded)
        if _text(raw)[0] == name:
            return raw
    return name


def _decode_fields(fields: Mapping[bytes | str, bytes]) -> tuple[dict[str, JSONValue], bool]:
    data: dict[str, JSONValue] = {}
    exact = True
    for key, value in fields.items():
        name, same_name = _text(key)
        data[name] = decode_payload(value)
        exact = exact and same_name and encode_payload(restore(data[name])) == value
    return data, exact and len(data) == len(fields)


def _entry_fields(event: RecordedEvent, payload: object) -> Mapping[bytes | str, bytes]:
    """A stream entry's fields: the recorded bytes while the data matches them, else encoded."""
    recorded = (event.metadata or {}).get(FIELDS_KEY)
    if isinstance(recorded, list):
        raw: dict[bytes | str, bytes] = {}
        for key, value in recorded:
            raw[base64.b64decode(key)] = base64.b64decode(value)
        if _decode_fields(raw)[0] == event.event_data:
            return raw
    if isinstance(payload, Mapping):
        return {str(k): encode_payload(v) for k, v in payload.items()}
    return {"data": encode_payload(payload)}
