"""Reading engine property bags whose values may be unknown until apply.

At runtime CrossGuard wraps properties in ``unknown_checking_proxy``: touching an unknown
value raises and aborts the whole policy. Rules read through these helpers instead, so an
unknown becomes the :data:`UNKNOWN` marker and the rule can still decide everything else
before it reports the undecidable part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)


class _Unknown:
    """Marker for a value the engine will only know after apply."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown until apply>"


UNKNOWN: Final = _Unknown()

SENTINELS: Final = frozenset({
    UNKNOWN_STRING_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_ARRAY_VALUE,
    UNKNOWN_OBJECT_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_ARCHIVE_VALUE,
})
"""The engine's unknown sentinels; ``pulumi preview --json`` prints the string one."""


def is_unknown(value: Any) -> bool:
    """True for the marker and for raw engine sentinels (props that were not proxied)."""
    return value is UNKNOWN or (isinstance(value, str) and value in SENTINELS)


def get(bag: Any, *path: str | int) -> Any:
    """The value at ``path``: ``None`` when absent, :data:`UNKNOWN` when it is not known yet."""
    current = bag
    for step in path:
        if is_unknown(current):
            return UNKNOWN
        if isinstance(step, str) and not isinstance(current, Mapping):
            return None
        if isinstance(step, int) and (isinstance(current, (str, Mapping))
                                      or not isinstance(current, Sequence)):
            return None
        try:
            current = current[step]
        except (KeyError, IndexError):
            return None
        except UnknownValueError:
            return UNKNOWN
    return UNKNOWN if is_unknown(current) else current


def elements(value: Any) -> list[Any] | None:
    """Items of a list property (unknown items as :data:`UNKNOWN`); ``None`` if not a list."""
    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence):
        return None
    items: list[Any] = []
    for index in range(len(value)):
        items.append(get(value, index))
    return items


def text(value: Any) -> str | None:
    """A non-empty string value, or ``None`` (absent, empty or not a string)."""
    return value if isinstance(value, str) and value and not is_unknown(value) else None


def same(a: str, b: str) -> bool:
    """ARM compares names, enum values and ids case-insensitively."""
    return a.casefold() == b.casefold()


Verdict = bool | None
"""Three-valued answer: yes, no, or ``None`` when it depends on values unknown until apply."""


def all_of(*verdicts: Verdict) -> Verdict:
    """False if any is False, True if all are True, otherwise undecided."""
    if any(v is False for v in verdicts):
        return False
    return True if all(v is True for v in verdicts) else None


def any_of(verdicts: Iterable[Verdict]) -> Verdict:
    """True if any is True, undecided if any is undecided, otherwise False."""
    seen = list(verdicts)
    if any(v is True for v in seen):
        return True
    return None if any(v is None for v in seen) else False
