"""Signatures of bus methods, read once per function: attaching to a bus reads its
method's signature three times (12 us each), and a suite attaches to buses of the same
few classes test after test."""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Any


def signature_of(func: Callable[..., Any]) -> inspect.Signature | None:
    """``inspect.signature(func)``, or ``None`` when it has none (a builtin, say)."""
    if isinstance(func, types.MethodType) and type(func.__func__) is types.FunctionType:
        return _function_signature(func.__func__, bound=True)
    if type(func) is types.FunctionType:
        return _function_signature(func, bound=False)
    return _read(func)


@functools.lru_cache(maxsize=256)
def _function_signature(func: types.FunctionType, *, bound: bool) -> inspect.Signature | None:
    """A bound method's signature depends on its function alone, whatever it is bound to."""
    return _read(types.MethodType(func, _ANY) if bound else func)


_ANY = object()


def _read(func: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None
