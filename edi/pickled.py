"""Frozen, slotted dataclasses pickled as their class and field values.

Python gives a ``slots=True`` dataclass a ``__getstate__``/``__setstate__`` pair that
looks its fields up on every call, in Python: the set spool (`workers.set_spool`)
writes and reads a few such records per claim, and that lookup cost it a third of its
time. A class that also derives from `ByFields` pickles as ``(class, field values)``
and is rebuilt by its own ``__init__``: the same value, at about half the cost.
"""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter
from typing import Any

_GETTERS: dict[type, Any] = {}


class ByFields:
    """A mixin for a frozen, slotted dataclass whose fields are all ``__init__``
    parameters: pickled as ``(class, field values)``."""

    __slots__ = ()

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        cls = type(self)
        getter = _GETTERS.get(cls)
        if getter is None:
            names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
            if not names or any(not f.init for f in fields(cls)):  # type: ignore[arg-type]
                raise TypeError(f"{cls.__name__} cannot be rebuilt from its fields")
            one = attrgetter(*names)
            getter = one if len(names) > 1 else (lambda value: (one(value),))
            _GETTERS[cls] = getter
        return cls, getter(self)
