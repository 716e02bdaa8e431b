"""What every broker adapter shares: URL parsing, clear errors, and the recording thread."""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, cast
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

from ...cassette import JSONValue, RecordedEvent
from ..base import EventSink, redaction_of
from ..payload import describe_payload

log = logging.getLogger("pytest_eventrecorder")

CONNECT_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
BACKLOG_LIMIT = 200_000
"""Messages received but not yet written. Past it the receiving thread waits for the writer,
so the broker's own flow control takes over (and drops or disconnects as its protocol says,
which the adapters report) instead of this process growing without bound."""
LINGER_S = 0.002
"""Once messages arrive, the writer waits this long before taking them, so those arriving
meanwhile go with them: one wake-up and one write to the file per batch instead of per
message (a wake-up per message cost the receiving thread a fifth of its rate). Messages
received within about this long (plus the time to write them) are what a kill -9 of a
recording process loses."""
BATCH_MAX = 500
"""At most this many messages are written before the file is flushed."""

received_ns = time.perf_counter_ns
"""When a message came off the wire; bound at import, as the recorder's clock is: a replay
under ``clock="recorded"`` moves ``time.perf_counter_ns`` for the code under test."""

_Received = tuple[str, object, dict[str, JSONValue], bool, int]
"""(name, body, metadata, body is raw bytes, perf_counter_ns when it came off the wire)"""


class _BatchSink(Protocol):
    """An :class:`EventSink` that takes ``more`` (see its docs)."""

    def __call__(
        self,
        event_name: str,
        event: object,
        source: str | None,
        metadata: Mapping[str, JSONValue] | None,
        *,
        received_ns: int | None,
        more: bool,
    ) -> None: ...


class _Backlog:
    """Messages received and not yet written. The receiving thread appends without a lock
    and wakes the writer only when it was idle (it must get back to its socket at once);
    the writer takes what waits in batches. Past ``limit`` messages, receiving waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: deque[_Received] = deque()
        self.arrived = threading.Event()
        self.ended = False
        self._room = threading.Condition()
        self._waiting = 0

    def put(self, received: _Received) -> bool:
        """Queue ``received``; whether it had to wait for room."""
        if len(self.items) >= self.limit:
            self._put_when_room(received)
            return True
        self.items.append(received)
        if not self.arrived.is_set():
            self.arrived.set()
        return False

    def _put_when_room(self, received: _Received) -> None:
        with self._room:
            self._waiting += 1
            while len(self.items) >= self.limit:
                self._room.wait()
            self.items.append(received)
            self._waiting -= 1
        self.arrived.set()

    def take(self) -> list[_Received]:
        """Up to :data:`BATCH_MAX` messages, oldest first (the writer's side)."""
        self.arrived.clear()
        items = self.items
        batch = [items.popleft() for _ in range(min(len(items), BATCH_MAX))]
        if self._waiting:
            with self._room:
                self._room.notify_all()
        return batch

    def end(self) -> None:
        self.ended = True
        self.arrived.set()

    def finished(self) -> bool:
        """Ended, all taken, and no receiver still waiting to put its message."""
        with self._room:
            return self.ended and not self.items and not self._waiting


class BrokerConnectionError(ConnectionError):
    """A broker cannot be reached, refuses the credentials, or went away while in use.

    The message names the URL with its password (or token) masked.
    """

    def __init__(self, url: str, problem: str, *, secrets: Collection[str] = ()) -> None:
        for secret in secrets:
            problem = problem.replace(secret, "***")
        self.url = url
        self.problem = problem
        super().__init__(f"{url}: {problem}")


class MissingClientError(ImportError):
    """The client library for a broker URL is not installed."""

    def __init__(self, scheme: str, package: str, extra: str) -> None:
        super().__init__(
            f"{scheme}:// URLs need the {package} package: "
            f'pip install "pytest-eventrecorder[{extra}]"'
        )


def redact(url: str, *, user_is_secret: bool = False) -> str:
    """``url`` with its password (and a token-style user, if asked) replaced by ``***``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    if has_password:
        userinfo = f"{user}:***"
    elif user_is_secret:
        userinfo = "***"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{hostport}"))


@dataclass(frozen=True)
class BrokerURL:
    """A parsed broker URL; ``options`` are the query parameters meant for this package."""

    text: str
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    path: str
    options: tuple[tuple[str, str], ...]
    client_query: tuple[tuple[str, str], ...]
    user_is_secret: bool = False

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        default_port: int,
        options: Collection[str],
        client_options: bool = False,
        user_is_secret: bool = False,
    ) -> BrokerURL:
        """Parse ``text``; query keys outside ``options`` are refused, unless
        ``client_options`` says the client library takes them (they are passed on)."""
        head, mark, query_text = text.partition("?")
        text = head + mark + query_text.replace("#", "%23")  # MQTT's "#" is no fragment here
        shown = redact(text, user_is_secret=user_is_secret)
        parts = urlsplit(text)
        try:
            port = parts.port or default_port
        except ValueError:
            raise ValueError(f"{shown}: the port must be a number from 0 to 65535") from None
        query = _parse_query(parts.query)
        ours = tuple((k, v) for k, v in query if k in options)
        theirs = tuple((k, v) for k, v in query if k not in options)
        if theirs and not client_options:
            unknown = ", ".join(sorted({k for k, _ in theirs}))
            known = ", ".join(sorted(options))
            raise ValueError(f"{shown}: unknown option(s) {unknown}; known: {known}")
        return cls(
            text=text,
            scheme=parts.scheme.lower(),
            host=parts.hostname or "localhost",
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            path=unquote(parts.path.lstrip("/")),
            options=ours,
            client_query=theirs,
            user_is_secret=user_is_secret,
        )

    def __repr__(self) -> str:
        return f"BrokerURL({self.redacted!r})"

    @property
    def redacted(self) -> str:
        return redact(self.text, user_is_secret=self.user_is_secret)

    @property
    def address(self) -> str:
        """``scheme://host:port``, safe to show and to store as an event's source."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def secrets(self) -> tuple[str, ...]:
        found = [self.password, self.username if self.user_is_secret else None]
        return tuple({form for s in found if s for form in (s, quote(s, safe=""))})

    def values(self, name: str) -> list[str]:
        """Every value of a repeatable option; commas also separate values."""
        return [v.strip() for k, raw in self.options if k == name for v in raw.split(",") if v]

    def value(self, name: str, default: str) -> str:
        found = [v for k, v in self.options if k == name]
        return found[-1] if found else default

    def client_url(self) -> str:
        """The URL with this package's options removed, for the client library."""
        parts = urlsplit(self.text)
        return urlunsplit(parts._replace(query=urlencode(self.client_query, quote_via=quote)))


def _parse_query(query: str) -> list[tuple[str, str]]:
    """``key=value`` pairs; unlike ``parse_qsl``, a ``+`` stays a ``+`` (an MQTT wildcard)."""
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


class BrokerAdapter:
    """Base of the broker adapters: records everything a broker carries on a background
    thread (or the client's own), and publishes recorded events back.

    ``failure`` holds the error that ended a recording early (the broker went away, or
    messages were dropped where the protocol says so); events received before it stay with
    the sink. :meth:`close` releases every connection.
    """

    name: str
    match_all: ClassVar[str]
    """The subscription pattern that matches every channel (``*``, ``>``, ``#``)."""
    default_ports: ClassVar[Mapping[str, int]]
    options: ClassVar[frozenset[str]] = frozenset({"channel"})
    client_options: ClassVar[bool] = False
    user_is_secret: ClassVar[bool] = False
    package: ClassVar[str]
    extra: ClassVar[str]

    def __init__(self, url: str) -> None:
        scheme = urlsplit(url).scheme.lower()
        self.url = BrokerURL.parse(
            url,
            default_port=self.default_ports.get(scheme, 0),
            options=self.options,
            client_options=self.client_options,
            user_is_secret=self.user_is_secret,
        )
        self.client: Any = self._import_client()
        self.failure: BrokerConnectionError | None = None
        self._sink: EventSink | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._publisher: Any = None
        self._publisher_lock = threading.Lock()
        self._backlog: _Backlog | None = None
        self._writer: threading.Thread | None = None
        self._backlog_warned = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url.redacted}>"

    def __enter__(self) -> BrokerAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def source(self) -> str:
        return self.url.address

    @property
    def channels(self) -> list[str]:
        """The ``channel`` options (the broker's own wildcard syntax), else ``[default]``."""
        return self.url.values("channel") or [self.match_all]

    # ------------------------------------------------------------------ to implement

    def _import_client(self) -> Any:
        raise NotImplementedError

    def _start_recording(self) -> None:
        """Connect and subscribe; return once subscribed (raise on failure)."""
        raise NotImplementedError

    def _stop_recording(self) -> None:
        """Unsubscribe and disconnect the recording connection(s)."""

    def _close_publisher(self) -> None:
        """Disconnect the publishing connection, if one was opened."""

    def _connect_publisher(self) -> Any:
        """A new publishing connection (raise a clear error on failure)."""
        raise NotImplementedError

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------------ the protocol

    def attach(self, sink: EventSink) -> None:
        if self._sink is not None:
            raise RuntimeError(f"already recording from {self.url.redacted}")
        self.failure = None
        self._stopping.clear()
        self._sink = sink
        self._start_writer(sink)
        try:
            self._start_recording()
        except BaseException:
            self.detach()
            raise
        log.info("Recording %s from %s", ", ".join(self.channels), self.url.redacted)

    def detach(self) -> None:
        if self._sink is None:
            return
        self._stopping.set()
        try:
            self._stop_recording()
            for thread in self._threads:
                thread.join(STOP_TIMEOUT_S)
        finally:
            self._threads.clear()
            self._finish_writing()
            self._sink = None

    def close(self) -> None:
        self.detach()
        self._close_publisher()

    def open_publisher(self) -> None:
        """Connect for publishing now rather than on the first publish: a replay calls this
        before its clock starts, so connecting does not make the first event late."""
        self._publishing(self._connect_publisher)

    # ------------------------------------------------------------------ helpers

    def _publishing(self, connect: Callable[[], Any]) -> Any:
        """The publishing connection, opened on first use (once, even from many threads)."""
        with self._publisher_lock:
            if self._publisher is None:
                self._publisher = connect()
            return self._publisher

    def error(self, problem: str) -> BrokerConnectionError:
        return BrokerConnectionError(self.url.redacted, problem, secrets=self.url.secrets)

    def _missing(self) -> MissingClientError:
        return MissingClientError(self.url.scheme, self.package, self.extra)

    # ------------------------------------------------------------------ receiving

    def _deliver(self, event_name: str, raw: bytes, metadata: dict[str, JSONValue]) -> None:
        """Queue one received message (called from the receiving thread, which must get
        back to its socket at once: a broker drops what a slow reader leaves waiting)."""
        self._enqueue((event_name, raw, metadata, True, received_ns()))

    def _deliver_data(
        self, event_name: str, data: JSONValue, metadata: dict[str, JSONValue]
    ) -> None:
        """:meth:`_deliver` for a message already decoded."""
        self._enqueue((event_name, data, metadata, False, received_ns()))

    def _enqueue(self, received: _Received) -> None:
        backlog = self._backlog
        if backlog is None or self._stopping.is_set():
            return
        if backlog.put(received) and not self._backlog_warned:
            self._backlog_warned = True  # once per recording: it may fill again and again
            log.warning(
                "Recording from %s: %d messages wait to be written; receiving waits for "
                "the disk now, and the broker's flow control applies",
                self.source,
                backlog.limit,
            )

    def _start_writer(self, sink: EventSink) -> None:
        """The thread that describes each received message and hands it to the sink, in
        the order received, so the receiving thread only ever takes messages off the wire."""
        backlog = _Backlog(BACKLOG_LIMIT)
        self._backlog = backlog
        self._backlog_warned = False
        self._writer = threading.Thread(
            target=self._write, args=(backlog, sink), name="eventrecorder-writer", daemon=True
        )
        self._writer.start()

    def _write(self, backlog: _Backlog, sink: EventSink) -> None:
        batches = _takes_more(sink)
        while True:
            backlog.arrived.wait()
            if not backlog.ended:
                time.sleep(LINGER_S)  # what arrives meanwhile joins this batch
            while batch := backlog.take():
                last = len(batch) - 1
                for n, received in enumerate(batch):
                    self._write_one(received, sink, batches and n < last)
            # A receiver waiting for room when the stop came puts its message after that:
            # it was received before the stop, so it is written too.
            if backlog.finished():
                return

    def _write_one(self, received: _Received, sink: EventSink, more: bool = False) -> None:
        name, body, metadata, raw, received_ns = received
        try:
            if raw:
                body, extra = describe_payload(cast(bytes, body), redaction_of(sink))
                if extra:
                    metadata = {**metadata, **extra}
            # stamped when it arrived, not when written: a burst keeps its own timing
            if more:  # the sink may hold it back until the batch's last (one write)
                cast(_BatchSink, sink)(
                    name, body, self.source, metadata, received_ns=received_ns, more=True
                )
            else:
                sink(name, body, self.source, metadata, received_ns=received_ns)
        except BaseException:  # even SystemExit from a hook: this thread must live on,
            # or receiving blocks on a full backlog and the stop waits for ever
            log.exception("Recording %r from %s failed; recording goes on", name, self.source)

    def _finish_writing(self) -> None:
        """Write everything received before the stop (however long that takes: it is the
        recording), then end the writer thread."""
        backlog, writer = self._backlog, self._writer
        self._backlog = self._writer = None
        if backlog is None or writer is None:
            return
        backlog.end()
        started = time.monotonic()
        while writer.is_alive():
            writer.join(STOP_TIMEOUT_S)
            if writer.is_alive():
                log.warning(
                    "Still writing what %s sent before the stop (%d messages left, %.0f s)",
                    self.source,
                    len(backlog.items),
                    time.monotonic() - started,
                )

    def _fail(self, problem: str) -> None:
        """The broker went away mid-recording: remember why and stop receiving."""
        if self._stopping.is_set() or self.failure is not None:
            return
        self.failure = self.error(problem)
        log.error("Recording stopped early: %s (events received so far are kept)", self.failure)

    def _start_thread(self, name: str, body: Callable[[Callable[[], None]], None]) -> None:
        """Run ``body(ready)`` on a daemon thread; return once it calls ``ready()``.

        An exception before ``ready()`` is raised here; one after it ends the recording
        through :meth:`_fail`.
        """
        ready = threading.Event()
        early: list[BaseException] = []

        def run() -> None:
            try:
                body(ready.set)
            except BaseException as exc:
                if not ready.is_set():
                    early.append(exc)
                    ready.set()
                else:
                    self._fail(exc.problem if isinstance(exc, BrokerConnectionError) else repr(exc))

        thread = threading.Thread(target=run, name=f"eventrecorder-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)
        if not ready.wait(CONNECT_TIMEOUT_S):
            raise self.error(f"no answer within {CONNECT_TIMEOUT_S:g} s")
        if early:
            raise early[0]


def _takes_more(sink: EventSink) -> bool:
    """Whether ``sink`` takes ``more=True`` (the recorder does): then a batch is handed
    over as one, and reaches the file in one write."""
    try:
        return "more" in inspect.signature(sink).parameters
    except (TypeError, ValueError):  # no signature to read (a builtin)
        return False
