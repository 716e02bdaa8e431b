"""Built-in broker adapters, chosen by URL scheme.

=================================================== ======================================
URL                                                 records / replays
=================================================== ======================================
``redis://[user:pass@]host:6379/db[?streams=a,b]``  PSUBSCRIBE ``*`` (+ XREAD of the
(``rediss://`` for TLS)                             streams) / PUBLISH (XADD for streams)
``nats://[user:pass@|token@]host:4222``             SUBSCRIBE ``>``, no queue group
``[?jetstream=STREAM,...]``                         (+ the streams' stored history) /
                                                    PUBLISH with headers
``mqtt://[user:pass@]host:1883[?protocol=5|3.1.1]`` SUBSCRIBE ``#`` at QoS 2 / PUBLISH
(``mqtts://`` for TLS)                              with the recorded QoS and retain flag
``amqp://user:pass@host:5672/vhost?exchange=NAME``  a private queue bound with ``#`` to the
(``amqps://`` for TLS)                              exchange (default ``amq.topic``) /
                                                    basic_publish with the same properties
=================================================== ======================================

Every URL also takes ``channel=PATTERN`` (repeatable, or comma-separated) to record only
matching channels, in the broker's own wildcard syntax (``orders.*`` for Redis,
``orders.>`` for NATS, ``orders/#`` for MQTT, ``orders.#`` for AMQP).
"""

from __future__ import annotations

import importlib

from ..base import BusAdapter
from ..hookspecs import hookimpl
from .base import BrokerAdapter, BrokerConnectionError, BrokerURL, MissingClientError, redact

__all__ = [
    "BrokerAdapter",
    "BrokerConnectionError",
    "BrokerURL",
    "MissingClientError",
    "redact",
]

_ADAPTERS = {
    "redis": ("redis_", "RedisAdapter"),
    "rediss": ("redis_", "RedisAdapter"),
    "nats": ("nats_", "NatsAdapter"),
    "mqtt": ("mqtt_", "MqttAdapter"),
    "mqtts": ("mqtt_", "MqttAdapter"),
    "amqp": ("amqp", "AmqpAdapter"),
    "amqps": ("amqp", "AmqpAdapter"),
}


def adapter_class(scheme: str) -> type[BrokerAdapter] | None:
    """The built-in adapter class for a URL scheme (its module is imported on demand)."""
    found = _ADAPTERS.get(scheme)
    if found is None:
        return None
    module = importlib.import_module(f".{found[0]}", __name__)
    cls: type[BrokerAdapter] = getattr(module, found[1])
    return cls


@hookimpl(trylast=True)
def eventrecorder_adapter_for_url(url: str, scheme: str) -> BusAdapter | None:
    cls = adapter_class(scheme)
    return None if cls is None else cls(url)


@hookimpl
def eventrecorder_url_schemes() -> list[str]:
    return list(_ADAPTERS)
