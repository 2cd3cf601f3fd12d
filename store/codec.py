"""Frozen dataclasses to JSON values and back, by their type hints.

The store keeps some pure-core records whole (a claim's 277CA record, a transaction
set's 277CA header and totals, a decision without its trace) as JSON. Decimals travel
as strings so no amount is ever a float; dates as ISO strings; enums as their values.

Each type's way to and from JSON is worked out once, from its class and type hints, and
kept (`_encoder`, `_decoder`): a set's 277CA writes and reads one record per claim.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")
Convert = Callable[[Any], Any]


def to_json(value: Any) -> Any:
    """A JSON value (dict, list, str, int, bool, None) for a dataclass tree."""
    kind = type(value)
    encode = _ENCODERS.get(kind)
    if encode is None:
        encode = _ENCODERS[kind] = _encoder(kind)
    return encode(value)


def from_json(kind: type[T], data: Any) -> T:
    """The inverse of `to_json` for a dataclass type."""
    hint: Any = kind  # a class, as every hint `_decoder` is given
    return typing.cast(T, _decoder(hint)(data))


_ENCODERS: dict[type, Convert] = {}
"""Each class met by `to_json` (the classes of the store's records: a few dozen)."""


def _same(value: Any) -> Any:
    return value


def _encoder(kind: type) -> Convert:
    """How a value of exactly this class becomes JSON (a dataclass's fields, an enum's
    value, a Decimal's digits, an ISO date, a list for any sequence, string keys)."""
    if dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in dataclasses.fields(kind))
        return lambda value: {name: to_json(getattr(value, name)) for name in names}
    if issubclass(kind, Enum):
        return lambda value: value.value
    if issubclass(kind, Decimal):
        return lambda value: format(value, "f")
    if issubclass(kind, date):  # a datetime too
        return lambda value: value.isoformat()
    if issubclass(kind, (list, tuple)):
        return lambda value: [to_json(item) for item in value]
    if issubclass(kind, dict):
        return lambda value: {str(k): to_json(v) for k, v in value.items()}
    return _same


@cache
def _decoder(kind: Any) -> Convert:
    """How JSON becomes a value of the hinted type (None stays None at every level; of a
    union only its first type other than None is read)."""
    convert = _converter(kind)
    return lambda data: None if data is None else convert(data)


def _converter(kind: Any) -> Convert:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return _decoder(next(a for a in typing.get_args(kind) if a is not type(None)))
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda data: tuple(item(x) for x in data)
        items = tuple(_decoder(a) for a in args)
        return lambda data: tuple(one(x) for one, x in zip(items, data, strict=True))
    if origin is list:
        item = _decoder(typing.get_args(kind)[0])
        return lambda data: [item(x) for x in data]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _dataclass_converter(kind)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind
    if kind is Decimal:
        return Decimal
    if kind is datetime:
        return datetime.fromisoformat
    if kind is date:
        return date.fromisoformat
    return _same


def _dataclass_converter(kind: type) -> Convert:
    """A dataclass from its fields (those the data holds; the others keep their
    defaults). The fields' decoders are worked out at the first record, so a class whose
    fields name it (or each other) is fine."""
    build = typing.cast(Callable[..., Any], kind)
    fields: tuple[tuple[str, Convert], ...] = ()

    def convert(data: Any) -> Any:
        nonlocal fields
        if not fields:
            hints = typing.get_type_hints(kind)
            fields = tuple((f.name, _decoder(hints[f.name])) for f in dataclasses.fields(kind))
        return build(**{name: one(data[name]) for name, one in fields if name in data})

    return convert
