"""Frozen, slotted dataclasses pickled as their class and field values.

Python gives a ``slots=True`` dataclass a ``__getstate__``/``__setstate__`` pair that
looks its fields up on every call, in Python: the set spool (`workers.set_spool`)
writes and reads a few such records per claim, and that lookup cost it a third of its
time. A class that also derives from `ByFields` pickles as ``(class, field values)``
and is rebuilt by its own ``__init__``: the same value, at about half the cost.

An enumeration the spool writes derives from `PickledStrEnum`: pickled as its class and
value on every Python 3.11 release. Some 3.11 releases (3.11.2, Debian 12's, for one;
not 3.11.7) pickle a member as ``getattr(class, name)``, a call the spool's reader refuses
(it builds its own types and nothing else), so every spooled set was found damaged and
read again from its file.
"""

from __future__ import annotations

from dataclasses import fields
from enum import StrEnum
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


class PickledStrEnum(StrEnum):
    """A string enumeration pickled as ``(class, (value,))`` whatever the 3.11 release."""

    def __reduce_ex__(self, protocol: object) -> tuple[type, tuple[str]]:
        return type(self), (self._value_,)
