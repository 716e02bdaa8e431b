"""Helpers for the adapter tests: the shared service check, polling, and a cuttable TCP proxy."""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

_ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def _root_conftest() -> ModuleType:
    # loaded by path: every test folder has a module named "conftest"
    spec = importlib.util.spec_from_file_location("eventrecorder_root_conftest", _ROOT_CONFTEST)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


require_service: Callable[..., None] = _root_conftest().require_service


def wait_for(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Poll until ``condition()`` is true; fail naming ``what`` after a generous timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def closed_port() -> int:
    """A local port nothing listens on (connections to it are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpProxy:
    """Forwards a local port to a broker; :meth:`cut` drops every connection and stops
    listening, which is how a broker going away looks to its clients."""

    def __init__(self, port: int) -> None:
        self.upstream = ("127.0.0.1", port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.holding = threading.Event()
        """Set: what the broker sends is swallowed (acknowledgements never arrive)."""
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(self.upstream)
            except OSError:
                return
            with self._lock:
                self._sockets += [client, upstream]
            directions = ((client, upstream, None), (upstream, client, self.holding))
            for source, target, hold in directions:
                threading.Thread(target=_pump, args=(source, target, hold), daemon=True).start()

    def cut(self) -> None:
        with contextlib.suppress(OSError):  # wakes the thread blocked in accept()
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self.drop()

    def drop(self) -> None:
        """Drop every open connection but keep accepting new ones: a network blip, or a
        server killing its client (Redis does so to slow pub/sub readers)."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _pump(source: socket.socket, target: socket.socket, hold: threading.Event | None) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            if hold is None or not hold.is_set():
                target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


PAYLOADS: dict[str, bytes] = {
    "json": b'{"order":7,"items":["a","b"]}',  # compact JSON: re-encodes to the same bytes
    "spaced-json": b'{"price": 1.50, "qty": 3}',  # re-encoding differs: kept raw as well
    "text": "héllo wörld, not JSON".encode(),
    "binary": b"\x00\xff\xfe\x80 raw",
    "empty": b"",
}
"""One payload of each kind a broker carries; replay must send each back byte for byte."""

EXPECTED_DATA: dict[str, object] = {
    "json": {"order": 7, "items": ["a", "b"]},
    "spaced-json": {"price": 1.5, "qty": 3},
    "text": "héllo wörld, not JSON",
    "binary": {"__bytes__": "AP/+gCByYXc="},
    "empty": "",
}
"""What each payload looks like as recorded ``event_data``."""
