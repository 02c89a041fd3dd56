"""YAML read the way the Pulumi CLI reads stack files: gopkg.in/yaml.v3 into Go ``any``.

The CLI (``sdk/go/common/encoding/marshal.go``, gopkg.in/yaml.v3 v3.0.1 in ``sdk/go.mod``)
resolves plain scalars with yaml.v3's ``resolve`` (``resolve.go``), which differs from
PyYAML's YAML 1.1 rules in ways that change config values:

- booleans are only ``true/True/TRUE`` and ``false/False/FALSE``: ``on``, ``yes``, ``y``,
  ``off``, ``no`` stay strings;
- integers follow Go's ``strconv.ParseInt(s, 0, 64)`` after removing ``_``: ``0x``, ``0o``,
  ``0b`` and the YAML 1.1 octal ``0777`` (= 511);
- an unquoted ``YYYY-M-D`` (with optional time) that is a real date is a ``time.Time``; one
  that is not (``2028-06-31``) stays the string it was;
- a key repeated in one mapping is an error ("mapping key ... already defined at line N").

PyYAML supplies the parser (and line/column for syntax errors); resolving is done here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PLAIN = "!plain"
"""Tag our resolver gives every plain (unquoted, untagged) scalar, resolved later like Go."""


class YamlError(ValueError):
    """Not YAML the CLI would accept; ``line``/``column`` are 1-based when known."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None) -> None:
        self.problem, self.line, self.column = problem, line, column
        where = f"line {line}" + (f", column {column}" if column else "") + ": " if line else ""
        super().__init__(where + problem)


@dataclass(frozen=True)
class GoTime:
    """A ``time.Time`` yaml.v3 produced; Pulumi hands the program its ``String()``."""

    text: str


class _Resolver(yaml.resolver.BaseResolver):
    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and implicit[0]:
            return PLAIN
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call,no-any-return]


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _Resolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


def compose(text: str) -> Node | None:
    """The document's node tree (None when the document is empty); syntax errors located."""
    try:
        node: Node | None = _Loader(text).get_single_node()
        return node
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "not valid YAML"
        if mark is None:
            raise YamlError(problem) from None
        raise YamlError(problem, mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as error:
        raise YamlError(str(error)) from None


def duplicate_keys(node: MappingNode) -> Iterator[tuple[str, int, int]]:
    """(key, line, first line) of every repeated key, compared as yaml.v3 does (raw text)."""
    seen: dict[tuple[type, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, ScalarNode):
            continue
        line = key.start_mark.line + 1
        first = seen.setdefault((type(key), key.value), line)
        if first != line:
            yield key.value, line, first


def value(node: Node) -> Any:
    """Go's ``any`` for ``node``: None, bool, int, float, str, GoTime, list or dict."""
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        return [value(item) for item in node.value]
    if isinstance(node, MappingNode):
        for key, line, first in duplicate_keys(node):
            raise YamlError(f'mapping key "{key}" already defined at line {first}', line)
        return {_key_text(k): value(v) for k, v in node.value}
    raise YamlError(f"unsupported YAML node {node.tag}")


def _key_text(node: Node) -> str:
    resolved = value(node) if isinstance(node, ScalarNode) else node.tag
    if isinstance(resolved, bool):
        return "true" if resolved else "false"
    return str(resolved.text if isinstance(resolved, GoTime) else resolved)


_NULLS = {"", "~", "null", "Null", "NULL"}
_MAP: dict[str, Any] = {
    **{s: True for s in ("true", "True", "TRUE")},
    **{s: False for s in ("false", "False", "FALSE")},
    **{s: math.nan for s in (".nan", ".NaN", ".NAN")},
    **{s: math.inf for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{s: -math.inf for s in ("-.inf", "-.Inf", "-.INF")},
}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(inf|infinity|nan)$", re.I)


def _scalar(node: ScalarNode) -> Any:
    text = node.value
    if node.tag == "tag:yaml.org,2002:str":
        return text  # quoted, or tagged !!str
    if node.tag != PLAIN:
        raise YamlError(f"explicit tag {node.tag} is not supported in a stack file",
                        node.start_mark.line + 1, node.start_mark.column + 1)
    if text in _NULLS:
        return None
    if text in _MAP:
        return _MAP[text]
    first = text[0]
    if first == ".":
        return float(text) if _GO_FLOAT.match(text) else text
    if first in "+-0123456789":
        return _number_or_time(text)
    return text


def _number_or_time(text: str) -> Any:
    when = _timestamp(text)
    if when is not None:
        return when
    plain = text.replace("_", "")
    number = _go_parse_int(plain)
    if number is not None:
        return number
    if _YAML_FLOAT.match(plain):
        return float(plain)
    return text


_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def _go_parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, falling back to ``ParseUint`` as yaml.v3 does."""
    signed = text[:1] in "+-"
    body = text[1:] if signed else text
    base = 10
    if body[:2].lower() in ("0x", "0o", "0b"):
        base, body = {"x": 16, "o": 8, "b": 2}[body[1].lower()], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, body = 8, body[1:]
    if not body or any(c not in _DIGITS[base] for c in body):
        return None
    number = -int(body, base) if text[:1] == "-" else int(body, base)
    if -(2**63) <= number < 2**63 or (not signed and number < 2**64):
        return number
    return None


_DATE = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_TIME = r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?"
_TIMESTAMPS = (
    re.compile(rf"^{_DATE}[Tt]{_TIME}(Z|[+-]\d{{2}}:\d{{2}})$"),
    re.compile(rf"^{_DATE} {_TIME}()$"),
    re.compile(rf"^{_DATE}()()()()()$"),
)


def _timestamp(text: str) -> GoTime | None:
    """yaml.v3's ``parseTimestamp`` (four layouts), rendered as Go's ``Time.String()``.

    A numeric offset is rendered as Go does for a zone it does not know ("-0500 -0500");
    the CLI would name the zone instead when the offset is its machine's local one.
    """
    for pattern in _TIMESTAMPS:
        match = pattern.match(text)
        if not match:
            continue
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        try:
            moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                              int(second or 0))
        except ValueError:
            return None  # Go's time.Parse refuses it too; yaml.v3 then keeps the string
        nanos = (fraction or "").ljust(9, "0")[:9]
        frac = "." + nanos.rstrip("0") if nanos.strip("0") else ""
        offset, name = "+0000", "UTC"
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            delta = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])) * sign
            moment = moment.replace(tzinfo=timezone(delta))
            offset = name = f"{zone[0]}{zone[1:3]}{zone[4:6]}"
            if delta == timedelta(0):
                offset, name = "+0000", "UTC"
        else:
            moment = moment.replace(tzinfo=UTC)
        return GoTime(f"{moment:%Y-%m-%d %H:%M:%S}{frac} {offset} {name}")
    return None
