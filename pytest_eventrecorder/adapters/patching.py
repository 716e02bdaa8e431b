"""Temporary, exactly reversible changes to live objects (how in-process adapters record).

Only the one instance is touched (an instance attribute shadows the class's method), so
other buses of the same class are unaffected, and :meth:`Patches.restore` leaves the
instance's ``__dict__`` exactly as it was, whether or not it held the attribute before.
"""

from __future__ import annotations

_MISSING = object()


class Patches:
    """A stack of attribute replacements, undone in reverse order."""

    def __init__(self) -> None:
        self._undo: list[tuple[object, str, object]] = []

    def __bool__(self) -> bool:
        return bool(self._undo)

    def replace(self, obj: object, attr: str, value: object) -> None:
        """Set ``obj.<attr>`` to ``value`` until :meth:`restore`."""
        before = _own_attribute(obj, attr)
        try:
            setattr(obj, attr, value)
        except (AttributeError, TypeError) as exc:
            raise TypeError(
                f"cannot record {type(obj).__name__}.{attr}: the instance does not accept "
                f"new attributes ({exc}); wrap the bus in an object that does"
            ) from None
        self._undo.append((obj, attr, before))

    def restore(self) -> None:
        """Put every replaced attribute back as it was, newest first."""
        while self._undo:
            obj, attr, before = self._undo.pop()
            if before is _MISSING:
                if attr in _instance_dict(obj):
                    delattr(obj, attr)
            else:
                setattr(obj, attr, before)


def _instance_dict(obj: object) -> dict[str, object]:
    try:
        return vars(obj)
    except TypeError:  # __slots__ only
        return {}


def _own_attribute(obj: object, attr: str) -> object:
    """The instance's own value for ``attr`` (not the class's), or ``_MISSING``."""
    if attr == "__class__":
        return type(obj)
    return _instance_dict(obj).get(attr, _MISSING)
