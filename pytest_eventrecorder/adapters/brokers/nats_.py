"""NATS: a plain subscription to ``>`` (no queue group, so no consumer loses a message).

nats-py is asyncio-only: the adapter runs its own event loop on a dedicated thread and
bridges every call into it. ``?jetstream=ORDERS,AUDIT`` also records what those streams
stored before recording began (through ephemeral ordered consumers, which acknowledge
nothing); a message published in the instant recording starts may then appear twice.

Messages go from nats-py's parser straight to the recording's backlog, without the Msg
object, subscription queue and callback coroutine nats-py spends on each (which cost more
than recording them: a plain nats-py subscriber receives about 0.7x as fast). Past the
backlog's bound receiving waits, and the server closes the connection as a slow consumer,
which is reported through ``failure``. With ``pending_limit`` set, messages go through
nats-py's subscription queue instead, and what nats-py drops past that many is reported
the same way.

System subjects (``$SYS...``, ``$JS...``), replies to requests (``_INBOX...``) and
JetStream's redeliveries to push consumers are left out unless a ``channel=`` pattern
starts with ``$`` or ``_INBOX.``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import uuid
from collections.abc import Coroutine, Mapping
from typing import Any, ClassVar, TypeVar

from ...cassette import JSONValue, RecordedEvent
from ..payload import payload_bytes
from .base import CONNECT_TIMEOUT_S, STOP_TIMEOUT_S, BrokerAdapter, BrokerConnectionError

T = TypeVar("T")

HISTORY_TIMEOUT_S = 30.0
PENDING_LIMIT = 512 * 1024
"""nats-py's default limit of its subscription queue, where messages still go through it."""


class NatsAdapter(BrokerAdapter):
    name = "nats"
    default_ports: ClassVar[Mapping[str, int]] = {"nats": 4222}
    options = frozenset({"channel", "jetstream"})
    user_is_secret = True  # nats://TOKEN@host
    package = "nats-py"
    extra = "nats"
    match_all = ">"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.jetstream = self.url.values("jetstream")
        self._inbox = f"_INBOX.eventrecorder-{uuid.uuid4().hex}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._recorder: Any = None
        self._last_error: BaseException | None = None
        self.pending_limit: int | None = None
        """``None``: messages skip nats-py's subscription queue (see above); a number: they
        go through it, and nats-py drops (reported) what exceeds that many."""

    def _import_client(self) -> Any:
        try:
            import nats
            import nats.errors
            import nats.js.api
            import nats.js.errors
        except ImportError:
            raise self._missing() from None
        return nats

    # ------------------------------------------------------------------ the loop thread

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = CONNECT_TIMEOUT_S) -> T:
        """Run a coroutine on the adapter's loop thread and wait for its result."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._loop_thread = threading.Thread(
                target=self._loop.run_forever, name="eventrecorder-nats", daemon=True
            )
            self._loop_thread.start()
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise self.error(f"no answer within {timeout:g} s") from None

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._loop_thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT_S)
        loop.close()
        self._loop = self._loop_thread = None

    async def _connect(self, role: str) -> Any:
        nats = self.client
        recording = role == "recorder"

        async def on_error(exc: Exception) -> None:
            self._last_error = exc
            if recording and isinstance(exc, nats.errors.SlowConsumerError):
                self._fail(f"the NATS client dropped messages on {exc.subject!r} (slow consumer)")

        async def on_closed() -> None:
            if recording:
                self._fail(f"connection closed ({self._describe(self._last_error)})")

        try:
            return await nats.connect(
                servers=[self.url.client_url()],
                name=f"eventrecorder-{role}",
                error_cb=on_error,
                closed_cb=on_closed,
                connect_timeout=5,
                # A recorder does not reconnect: core NATS keeps nothing for an absent
                # subscriber, so the hole would go unseen. A publisher may.
                allow_reconnect=role != "recorder",
                max_reconnect_attempts=2,
                reconnect_time_wait=0.25,
                inbox_prefix=self._inbox,
            )
        except (nats.errors.Error, OSError, asyncio.TimeoutError) as exc:
            raise self._connection_error(exc) from None

    def _connection_error(self, exc: BaseException) -> BrokerConnectionError:
        cause = self._last_error or exc
        text = self._describe(cause)
        if "authorization" in text.lower() or "authentication" in text.lower():
            return self.error(f"authentication failed (check the user, password or token): {text}")
        return self.error(f"cannot connect: {text}")

    @staticmethod
    def _describe(exc: BaseException | None) -> str:
        if exc is None:
            return "no error reported"
        return str(exc) or type(exc).__name__

    # ------------------------------------------------------------------ recording

    def _start_recording(self) -> None:
        self._run(self._subscribe(), CONNECT_TIMEOUT_S + HISTORY_TIMEOUT_S)

    async def _subscribe(self) -> None:
        self._recorder = await self._connect("recorder")
        subscribed = [
            await self._recorder.subscribe(
                pattern, cb=self._on_message, pending_msgs_limit=self.pending_limit or PENDING_LIMIT
            )
            for pattern in self.channels
        ]
        if self.pending_limit is None:
            self._take_directly(self._recorder, {sub._id for sub in subscribed})
        await self._recorder.flush()
        for stream in self.jetstream:
            await self._record_history(stream)

    def _wanted(self, subject: str, reply: str) -> bool:
        """Application messages only: not JetStream deliveries of already-recorded messages
        (reply ``$JS.ACK...``), not the recorder's own traffic, and not system subjects
        (``$...``) or request replies (``_INBOX...``) unless a channel pattern names them."""
        if reply.startswith(("$JS.ACK.", self._inbox)) or subject.startswith(self._inbox):
            return False
        hidden = [p for p in ("$", "_INBOX.") if subject.startswith(p)]
        return not hidden or any(c.startswith(hidden[0]) for c in self.channels)

    async def _on_message(self, msg: Any) -> None:
        self._take(msg.subject, msg.reply or "", msg.data, msg.headers)

    def _take(self, subject: str, reply: str, data: bytes, headers: Any) -> None:
        if not self._wanted(subject, reply):
            return
        metadata: dict[str, JSONValue] = {}
        if headers:
            metadata["headers"] = dict(headers)
        if reply:
            metadata["reply"] = reply
        self._deliver(subject, data, metadata)

    def _take_directly(self, connection: Any, sids: set[int]) -> None:
        """Messages for ``sids`` go from the parser to :meth:`_take` (see the module's
        docs); any other (JetStream history, replies) takes nats-py's usual way. Its
        parser calls ``_process_msg(sid, subject, reply, data, headers)`` for each message
        (nats-py 2.x); a client without it keeps the usual way for all."""
        process = getattr(connection, "_process_msg", None)
        parse_headers = getattr(connection, "_process_headers", None)
        if process is None or parse_headers is None:
            return

        async def take(sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
            if sid not in sids:
                await process(sid, subject, reply, data, headers)
                return
            parsed = await parse_headers(headers) if headers else None
            self._take(subject.decode(), reply.decode(), data, parsed)

        connection._process_msg = take

    async def _record_history(self, stream: str) -> None:
        nats = self.client
        js = self._recorder.jetstream()
        try:
            info = await js.stream_info(stream)
        except nats.js.errors.NotFoundError:
            raise ValueError(
                f"{self.url.redacted}: there is no JetStream stream {stream!r}"
            ) from None
        last = info.state.last_seq
        if not info.state.messages:
            return
        done = asyncio.Event()

        async def on_stored(msg: Any) -> None:
            seq = msg.metadata.sequence.stream
            if seq <= last:
                meta: dict[str, JSONValue] = {
                    "jetstream": {
                        "stream": stream,
                        "seq": seq,
                        "time": msg.metadata.timestamp.isoformat(),
                    }
                }
                if msg.headers:
                    meta["headers"] = dict(msg.headers)
                self._deliver(msg.subject, msg.data, meta)
            if seq >= last:
                done.set()

        sub = await js.subscribe(
            ">",
            stream=stream,
            cb=on_stored,
            ordered_consumer=True,
            deliver_policy=nats.js.api.DeliverPolicy.ALL,
        )
        try:
            await asyncio.wait_for(done.wait(), HISTORY_TIMEOUT_S)
        finally:
            await sub.unsubscribe()

    def _stop_recording(self) -> None:
        recorder, self._recorder = self._recorder, None
        if recorder is not None and self._loop is not None:
            self._run(_close_quietly(recorder), STOP_TIMEOUT_S)
        if self._publisher is None:
            self._stop_loop()

    # ------------------------------------------------------------------ replay

    def _connect_publisher(self) -> Any:
        return self._run(self._connect("publisher"))

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        connection = self._publishing(self._connect_publisher)
        headers = (event.metadata or {}).get("headers")
        text_headers = (
            {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
        )
        self._run(
            self._publish(connection, event.event_name, payload_bytes(event, payload), text_headers)
        )

    async def _publish(
        self, connection: Any, subject: str, data: bytes, headers: dict[str, str]
    ) -> None:
        if connection.is_closed:
            raise self.error(f"connection closed ({self._describe(self._last_error)})")
        await connection.publish(subject, data, headers=headers or None)

    def _close_publisher(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None and self._loop is not None:
            self._run(_close_quietly(publisher, flush=True), STOP_TIMEOUT_S)
        if self._recorder is None:
            self._stop_loop()


async def _close_quietly(connection: Any, *, flush: bool = False) -> None:
    """Close a connection (sending what is buffered first); a dead one closes silently."""
    if connection.is_closed:
        return
    if flush and connection.is_connected:
        await connection.flush(timeout=STOP_TIMEOUT_S)
    await connection.close()
