"""Who may use the dashboard: the bind rule, the Host and Origin checks, the API's security
headers, and keeping the token out of logs.

The Host and Origin checks compare with the addresses the server was bound to or configured
for, never with the request's own ``Host`` header: a DNS-rebinding page sends its own name in
both, so "Origin matches Host" holds for it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.serving import WSGIRequestHandler

NO_TOKEN_FLAG = "--insecure-no-token"  # noqa: S105  # an option's name, not a secret
"""The ``serve`` option that lets a non-loopback bind run without a token."""
WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104  # names to recognise, not bind
API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
_TOKEN_IN_QUERY = re.compile(r"(?i)([?&]token=)[^&\s\"']*")


class UnsafeBindError(ValueError):
    """A non-loopback address without a token, and no explicit opt-out."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, allow_no_token: bool) -> None:
    """Refuse to serve ``host`` without a token unless it is loopback or the user opted out."""
    if token is None and not is_loopback(host) and not allow_no_token:
        raise UnsafeBindError(
            f"refusing to serve on {host or 'every address'} without a token: anyone who can "
            "reach this machine could read your recordings and start or stop recordings. "
            "Give a token (--token-file PATH or $EVENTRECORDER_TOKEN), or pass "
            f"{NO_TOKEN_FLAG} to serve without one"
        )


def read_token_file(path: Path) -> str:
    """The token in ``path`` (its first line, surrounding whitespace removed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ValueError(f"{path}: cannot read the token file ({reason})") from None
    lines = text.strip().splitlines()
    if not lines or not lines[0].strip():
        raise ValueError(f"{path}: the token file is empty")
    return lines[0].strip()


def mask_token(text: str) -> str:
    """``text`` with every ``token=`` query value replaced by ``***``."""
    return _TOKEN_IN_QUERY.sub(r"\1***", text)


def masking_request_handler() -> type[WSGIRequestHandler]:
    """Werkzeug's request handler, whose access log never shows a ``token=`` value."""
    from werkzeug.serving import WSGIRequestHandler

    class MaskingRequestHandler(WSGIRequestHandler):
        def log(self, type: str, message: str, *args: Any) -> None:
            masked = [mask_token(a) if isinstance(a, str) else a for a in args]
            super().log(type, mask_token(message), *masked)

    return MaskingRequestHandler


@dataclass(frozen=True)
class HostPolicy:
    """The names requests may be addressed to, from the bind address and the user's list."""

    bind: str
    machine_names: frozenset[str]
    trusted: frozenset[str]
    """Names the user allowed explicitly (``--allow-host``), on any port (a reverse proxy)."""

    @classmethod
    def for_bind(cls, host: str, extra: Iterable[str] = ()) -> HostPolicy:
        bind = _bare(host)
        names = _machine_names() if bind in WILDCARDS else frozenset()
        return cls(bind, names, frozenset(_bare(name) for name in extra))

    def allows_name(self, name: str, local: str) -> bool:
        """Whether ``name`` may address a connection that arrived on address ``local``."""
        name = _bare(name)
        if is_loopback(name) or name in self.trusted or name in self.machine_names:
            return True
        return name in (self.bind, _bare(local))

    def allows_origin(self, origin: str, local: str, port: str) -> bool:
        """Whether a page from ``origin`` may call this server, reached on ``local``:``port``."""
        parts = urlsplit(origin)
        try:
            origin_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        except ValueError:
            return False
        name = parts.hostname
        if name is None or origin_port is None:
            return False
        if _bare(name) in self.trusted:
            return True
        return str(origin_port) == port and self.allows_name(name, local)

    def refusal(
        self, *, host: str, origin: str | None, unsafe: bool, server: tuple[str, str], token: bool
    ) -> str | None:
        """Why a request must be refused (``None`` when it may go on). ``server`` is the
        local address the connection arrived on and the port listened on; ``unsafe``: the
        method may change state; ``token``: the server requires one (which a rebinding page
        cannot know)."""
        local, port = server
        if not token and not self.allows_name(_host_name(host), local):
            return (
                f"host {host!r} refused: without a token the API only answers requests "
                "addressed to localhost or to the address it listens on (start the server "
                "with a token, or with --allow-host NAME, to serve other names)"
            )
        if unsafe and origin is not None and not self.allows_origin(origin, local, port):
            return f"cross-origin request from {origin!r} refused"
        return None


def install_access(app: Flask, policy: HostPolicy, token: bool) -> None:
    """Check Host and Origin before every ``/api`` request, and add the security headers
    to every ``/api`` response (errors included)."""
    from flask import Response, jsonify, request

    def under_api() -> bool:
        return request.path == "/api" or request.path.startswith("/api/")

    def check() -> tuple[Response, int] | None:
        if not under_api():
            return None
        reason = policy.refusal(
            host=request.host,
            origin=request.headers.get("Origin"),
            unsafe=request.method not in ("GET", "HEAD", "OPTIONS"),
            server=(_local_address(request.environ), str(request.environ.get("SERVER_PORT"))),
            token=token,
        )
        return None if reason is None else (jsonify(error=reason), 403)

    def harden(response: Response) -> Response:
        if under_api():
            for name, value in API_HEADERS.items():
                response.headers.setdefault(name, value)
        return response

    app.before_request(check)
    app.after_request(harden)


def _bare(host: str) -> str:
    return host.strip().strip("[]").lower()


def _host_name(host: str) -> str:
    """The name part of a ``Host`` header (``[::1]:5556`` -> ``::1``)."""
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _local_address(environ: dict[str, Any]) -> str:
    """The address of this machine the connection arrived on (with a wildcard bind, the
    interface the client reached), from the socket itself, never from a header. Without a
    socket (a test client), the server's own name."""
    connection = environ.get("werkzeug.socket")
    if connection is None:
        return str(environ.get("SERVER_NAME", ""))
    address = str(connection.getsockname()[0])
    with contextlib.suppress(ValueError):
        mapped = ipaddress.ip_address(address.partition("%")[0])
        if isinstance(mapped, ipaddress.IPv6Address) and mapped.ipv4_mapped is not None:
            return str(mapped.ipv4_mapped)  # a dual-stack "::" socket reached over IPv4
    return address


def _machine_names() -> frozenset[str]:
    """This machine's host name and the addresses it resolves to (from the local resolver)."""
    hostname = socket.gethostname()
    names = {hostname.lower()}
    with contextlib.suppress(OSError):  # a host name without an address: its name is enough
        names.update(str(info[4][0]).lower() for info in socket.getaddrinfo(hostname, None))
    return frozenset(names)
