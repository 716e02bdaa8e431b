"""Recording wrappers generated with the wrapped method's exact signature.

A generic ``*args, **kwargs`` wrapper packs and unpacks every call; for a plain Python
method whose parameters may all be passed by position, a wrapper with the very same
parameters costs a third as much. As ``dataclasses`` does for ``__init__``, its source is
built from the parameter names alone (checked to be identifiers), with defaults passed in
through the namespace. Python itself then rejects a wrong call with the original's message.
"""

from __future__ import annotations

import functools
import inspect
import keyword
import types
import unicodedata
from collections.abc import Callable
from typing import Any

from .signatures import signature_of

_P = inspect.Parameter
_PLAIN = (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)
_RESERVED = frozenset(
    {"_er_make", "_er_original", "_er_sink", "_er_failed", "_er_n", "_er_s", "_er_unused"}
)

_TEMPLATE = """\
def _er_make(_er_original, _er_sink, _er_failed, {defaults}):
    {async_}def recording_publish({params}):
        try:
            _er_n = {event_name} if type({event_name}) is str else str({event_name})
            _er_s = {source}
            if _er_s is not None and type(_er_s) is not str:
                _er_s = str(_er_s)
        except Exception:  # only the original's own errors may reach the caller
            _er_failed()
        else:
            _er_sink(_er_n, {event}, _er_s)
        return {await_}_er_original({args})
    return recording_publish
"""


def signature_wrapper(
    original: Callable[..., Any],
    sink: Callable[..., Any],
    failed: Callable[[], None],
    arg_names: tuple[str, str, str | None],
) -> Callable[..., Any] | None:
    """A wrapper that hands ``(name, event, source)`` to ``sink`` and then calls
    ``original``, with ``original``'s own signature; ``failed`` is called instead of
    ``sink`` when the name or source cannot become text. ``None`` for other shapes."""
    func, bound_to = _function_of(original)
    if func is None:
        return None
    sig = signature_of(func)
    if sig is None:
        return None
    params = list(sig.parameters.values())
    own = [p.name for p in params][0 if bound_to is None else 1 :]
    if not _plain(params) or any(a is not None and a not in own for a in arg_names):
        return None
    wrapper = _generate(func, params, original, sink, failed, arg_names)
    functools.update_wrapper(wrapper, func)
    return types.MethodType(wrapper, bound_to) if bound_to is not None else wrapper


def _function_of(original: Callable[..., Any]) -> tuple[types.FunctionType | None, object]:
    """The plain function behind ``original`` and the instance it is bound to (or None)."""
    if isinstance(original, types.MethodType):
        func, bound_to = original.__func__, original.__self__
        if isinstance(func, types.FunctionType) and func.__code__.co_argcount > 0:
            return func, bound_to
        return None, None
    if isinstance(original, types.FunctionType):
        return original, None
    return None, None


def _plain(params: list[inspect.Parameter]) -> bool:
    return all(
        p.kind in _PLAIN
        and p.name.isidentifier()
        and not keyword.iskeyword(p.name)
        and unicodedata.normalize("NFKC", p.name) == p.name  # source names are normalized
        and p.name not in _RESERVED
        and not p.name.startswith("_er_d")
        for p in params
    )


def _generate(
    func: types.FunctionType,
    params: list[inspect.Parameter],
    original: Callable[..., Any],
    sink: Callable[..., Any],
    failed: Callable[[], None],
    arg_names: tuple[str, str, str | None],
) -> types.FunctionType:
    defaults = {f"_er_d{i}": p.default for i, p in enumerate(params) if p.default is not _P.empty}
    default_of = {p.name: f"_er_d{i}" for i, p in enumerate(params) if p.default is not _P.empty}
    rendered = [
        f"{p.name}={default_of[p.name]}" if p.name in default_of else p.name for p in params
    ]
    positional_only = sum(p.kind is _P.POSITIONAL_ONLY for p in params)
    if positional_only:
        rendered.insert(positional_only, "/")
    is_async = inspect.iscoroutinefunction(func)
    name_arg, event_arg, source_arg = arg_names
    # The bound instance is the wrapper's own first parameter; the original is already bound.
    forwarded = [p.name for p in params][1 if isinstance(original, types.MethodType) else 0 :]
    code = _TEMPLATE.format(
        defaults=", ".join(defaults) or "_er_unused=None",
        async_="async " if is_async else "",
        await_="await " if is_async else "",
        params=", ".join(rendered),
        event_name=name_arg,
        event=event_arg,
        source="None" if source_arg is None else source_arg,
        args=", ".join(forwarded),
    )
    made: types.FunctionType = _maker(code, func.__qualname__)(original, sink, failed, **defaults)
    return made


@functools.lru_cache(maxsize=256)
def _maker(code: str, qualname: str) -> Callable[..., types.FunctionType]:
    """The compiled ``_er_make`` of one wrapper source: compiling costs 70 us, most of
    attaching to a bus, and every test of a suite attaches to the same kind of bus."""
    namespace: dict[str, Any] = {}
    exec(compile(code, f"<recording {qualname}>", "exec"), namespace)  # noqa: S102
    maker: Callable[..., types.FunctionType] = namespace["_er_make"]
    return maker
