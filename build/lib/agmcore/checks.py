"""Validation shared by every settings class: one error type and the checks that raise it.

Settings are validated once, at construction (optimizers/settings.py, problems/settings.py,
engine/config.py), with messages a user can act on.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from typing import Union


class ConfigError(ValueError):
    """A setting a user can fix; the message names it and says what is allowed."""


def require(ok: bool, message: str):
    if not ok:
        raise ConfigError(message)


def coerce_fields(obj) -> None:
    """Turn ints given for float fields into floats (so the canonical JSON is unique) and
    check each field's type, naming the field when it is wrong."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value, kind = getattr(obj, f.name), hints[f.name]
        optional = typing.get_origin(kind) is Union and type(None) in typing.get_args(kind)
        if optional:
            if value is None:
                continue
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        if kind is float:
            require(isinstance(value, (int, float)) and not isinstance(value, bool),
                     f"{f.name} must be a number (got {value!r})")
            require(math.isfinite(value), f"{f.name} must be finite (got {value!r})")
            object.__setattr__(obj, f.name, float(value))
        elif kind is int:
            require(isinstance(value, int) and not isinstance(value, bool), f"{f.name} must be an integer (got {value!r})")
        elif kind is bool:
            require(isinstance(value, bool), f"{f.name} must be true or false (got {value!r})")
        elif kind is str:
            require(isinstance(value, str), f"{f.name} must be a string (got {value!r})")


def choice(name: str, value: str, allowed) -> None:
    require(value in allowed, f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
