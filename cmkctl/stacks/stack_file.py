"""``Pulumi.<stack>.yaml`` read as the Pulumi CLI reads it, so offline and real runs agree.

What the CLI does before the program sees any config (pulumi/pulumi ``sdk/go/common/
workspace/loaders.go``, ``sdk/go/common/resource/config/object.go``, ``pkg/workspace/
config.go``): strip a UTF-8 byte-order mark; parse with yaml.v3 (see ``cmkctl.stacks.yaml_v3``);
namespace bare keys with the project name; turn each value into the string the program
receives (bools ``true``/``false``, numbers as JSON, a ``time.Time`` as its ``String()``,
null as ``""``, lists and maps as compact JSON); add the project's defaults from
``Pulumi.yaml`` for keys the stack does not set; refuse a key the project declares without
a default that the stack leaves out, and a value whose type is not the declared one.

Every way a file can be unusable is a ``StackFileError`` naming the file and the key.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from cmkctl.stacks.yaml_v3 import GoTime, YamlError, compose, duplicate_keys, value

BOM = b"\xef\xbb\xbf"


class StackFileError(ValueError):
    """A stack file the program cannot be run with; the message names the file and key."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path, self.problems = path, problems
        super().__init__("\n".join(f"{path.name}: {problem}" for problem in problems))


@dataclass(frozen=True)
class KeyType:
    """One entry of the project's config schema (``Pulumi.yaml`` ``config:``)."""

    type: str
    items: str | None
    default: str | None
    """The default as the program receives it, or None when the key is required."""


def project_schema(root: Path) -> tuple[str, Mapping[str, KeyType]]:
    """The project name and its config schema, from ``root/Pulumi.yaml``."""
    path = root / "Pulumi.yaml"
    try:
        return _parsed_schema(path, _text(path))
    except (OSError, YamlError) as error:
        raise StackFileError(path, [str(error)]) from None


@lru_cache(maxsize=16)
def _parsed_schema(path: Path, text: str) -> tuple[str, Mapping[str, KeyType]]:
    """Parsed once per content: a fleet reads the same project file for every stack, and
    the pure-Python yaml.v3 composer was a sixth of each stack's time (profiled)."""
    node = compose(text)
    project = value(node) if node is not None else None
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise StackFileError(path, ["not a Pulumi project file (no name)"])
    schema: dict[str, KeyType] = {}
    for key, declared in (project.get("config") or {}).items():
        entry = declared if isinstance(declared, dict) else {"default": declared}
        items = entry.get("items")
        default = entry.get("default", entry.get("value"))
        schema[key] = KeyType(
            str(entry.get("type", "string")),
            items.get("type") if isinstance(items, dict) else None,
            None if default is None and "default" not in entry else engine_string(default),
        )
    return project["name"], MappingProxyType(schema)


def read_stack_config(root: Path, stack: str, stack_dir: Path | None = None) -> dict[str, str]:
    """Fully qualified key -> the string the program receives, defaults included; the
    stack file is in ``stack_dir`` (default ``root``, where ``Pulumi.yaml`` is)."""
    path = (stack_dir or root) / f"Pulumi.{stack}.yaml"
    project, schema = project_schema(root)
    raw = _stack_values(path, project)
    problems: list[str] = []
    for key, entry in schema.items():
        full = key if ":" in key else f"{project}:{key}"
        if full not in raw:
            if entry.default is None:
                problems.append(f"{full}: is required by the project (Pulumi.yaml gives no "
                                f"default); fix: pulumi config set {key} <value>")
                continue
            raw[full] = (entry.default, entry.type == "array")
        text, is_object = raw[full]
        if not _type_ok(entry, text, is_object):
            wanted = _type_name(entry)
            problems.append(f"{full}: {_describe(text, is_object, entry)}, not {wanted} as "
                            "Pulumi.yaml declares; the Pulumi CLI refuses the stack (fix: "
                            f"pulumi config set {key} <{wanted}>)")
    if problems:
        raise StackFileError(path, problems)
    return {key: text for key, (text, _) in raw.items()}


def _text(path: Path) -> str:
    data = regular_file_bytes(path)
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise YamlError(f"not UTF-8 text (byte {error.start}); save the file as UTF-8") from None


def regular_file_bytes(path: Path) -> bytes:
    """The bytes of ``path`` when it is a regular file in its directory (or a link to one
    there). A link leading elsewhere could make a pull request read any file of the runner
    into a comment; a FIFO or device would never finish reading. Opened non-blocking so a
    FIFO is refused at once instead of waiting for a writer."""
    if not path.resolve().is_relative_to(path.parent.resolve()):
        raise StackFileError(path, [
            "is a symbolic link to a file outside its directory; refusing to read it (copy the "
            "file into the directory instead)"])
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise StackFileError(path, [
                "is not a regular file (a FIFO, device or directory); a stack file must be a "
                "plain YAML file"])
        chunks = []
        while chunk := os.read(descriptor, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _stack_values(path: Path, project: str) -> dict[str, tuple[str, bool]]:
    """Key -> (value string, whether it is JSON of a list or map), as the CLI reads them."""
    try:
        node = compose(_text(path))
    except FileNotFoundError:
        raise StackFileError(path, ["no such stack file; create it with `pulumi stack init` "
                                    "and `pulumi config set`"]) from None
    except (OSError, YamlError) as error:
        raise StackFileError(path, [str(error)]) from None
    if node is None or (isinstance(node, ScalarNode) and node.value in ("", "~", "null")):
        raise StackFileError(path, ["the file is empty: it sets no config; add a config: "
                                    "mapping (pulumi config set <key> <value> writes one)"])
    if not isinstance(node, MappingNode):
        raise StackFileError(path, [f"the top level is {_node_kind(node)}, not a mapping with a "
                                    "config: key"])
    _refuse_duplicates(path, node, "")
    config_node = next((v for k, v in node.value if k.value == "config"), None)
    if config_node is None or (isinstance(config_node, ScalarNode)
                               and value(config_node) is None):
        return {}
    if not isinstance(config_node, MappingNode):
        raise StackFileError(path, [f"config: is {_node_kind(config_node)}, not a mapping of "
                                    f"keys to values (line {config_node.start_mark.line + 1})"])
    return _config_values(path, project, config_node)


def _config_values(path: Path, project: str,
                   config_node: MappingNode) -> dict[str, tuple[str, bool]]:
    raw: dict[str, tuple[str, bool]] = {}
    spelled: dict[str, str] = {}
    problems: list[str] = []
    _refuse_duplicates(path, config_node, "")
    for key_node, value_node in config_node.value:
        key = str(key_node.value)
        full = key if ":" in key else f"{project}:{key}"
        line = key_node.start_mark.line + 1
        if full in spelled:
            problems.append(f"{full}: set twice, as {spelled[full]!r} and {key!r} (line {line}); "
                            "the CLI would keep either one; remove one of them")
            continue
        spelled[full] = key
        try:
            _refuse_duplicates(path, value_node, full)
            given = value(value_node)
        except YamlError as error:
            problems.append(f"{full}: {error}")
            continue
        if _has_secure(given):
            problems.append(f"{full}: is encrypted (secure:), which cannot be read without the "
                            "stack's secrets provider; offline runs need a copy of the stack "
                            "file with a plain placeholder value for it, or without it for a "
                            f"key that must stay secret such as credentialSecrets (line {line})")
            continue
        try:
            raw[full] = (engine_string(given), isinstance(given, (list, dict)))
        except ValueError as error:
            problems.append(f"{full}: {error} (line {line})")
    if problems:
        raise StackFileError(path, problems)
    return raw


def _refuse_duplicates(path: Path, node: Node, where: str) -> None:
    if isinstance(node, MappingNode):
        for key, line, first in duplicate_keys(node):
            name = f"{where}.{key}" if where else key
            raise StackFileError(path, [f"{name}: set again at line {line} (first at line "
                                        f"{first}); the Pulumi CLI refuses duplicate keys"])


def _has_secure(given: Any) -> bool:
    if isinstance(given, dict):
        if set(given) == {"secure"} and isinstance(given["secure"], str):
            return True
        return any(_has_secure(v) for v in given.values())
    if isinstance(given, list):
        return any(_has_secure(v) for v in given)
    return False


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, ScalarNode):
        return "a single value"  # never the value itself: the file may not be a stack file
    return "a list"


def engine_string(given: Any) -> str:
    """The string the Pulumi CLI hands the program for a value yaml.v3 produced."""
    if given is None:
        return ""
    if isinstance(given, bool):
        return "true" if given else "false"
    if isinstance(given, GoTime):
        return given.text
    if isinstance(given, str):
        return given
    return _go_json(given)


def _go_json(given: Any) -> str:
    """``encoding/json.Marshal`` as Go writes it: compact, sorted keys, HTML-safe strings."""
    if given is None:
        return "null"
    if isinstance(given, bool):
        return "true" if given else "false"
    if isinstance(given, int):
        return str(given)
    if isinstance(given, float):
        return _go_float(given)
    if isinstance(given, GoTime):
        return _go_json(given.text)
    if isinstance(given, str):
        text = json.dumps(given, ensure_ascii=False)
        for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                              ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
            text = text.replace(char, escaped)
        return text
    if isinstance(given, list):
        return "[" + ",".join(_go_json(item) for item in given) + "]"
    pairs = (f"{_go_json(str(k))}:{_go_json(v)}" for k, v in sorted(given.items()))
    return "{" + ",".join(pairs) + "}"


def _go_float(number: float) -> str:
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{number} (.nan/.inf) is not a number the Pulumi CLI can store; "
                         "quote it if a string is meant")
    magnitude = abs(number)
    if number == int(number) and magnitude < 1e21:
        return str(int(number))
    if magnitude < 1e-6 or magnitude >= 1e21:
        return re.sub(r"e([+-])0(\d)$", r"e\1\2", repr(number))
    return repr(number)


_GO_ATOI = re.compile(r"^[+-]?\d+$")


def _type_ok(entry: KeyType, text: str, is_object: bool) -> bool:
    """``ValidateConfigValue`` of the CLI, on the value as the program would receive it."""
    if entry.type == "string":
        return not is_object
    if entry.type == "integer":
        return not is_object and bool(_GO_ATOI.match(text)) and -(2**63) <= int(text) < 2**63
    if entry.type == "boolean":
        return not is_object and text in ("true", "false")
    if entry.type == "array":
        items = json.loads(text) if is_object else None
        return isinstance(items, list) and (
            entry.items != "string" or all(isinstance(item, str) for item in items))
    return True


def _type_name(entry: KeyType) -> str:
    if entry.type == "array":
        return f"a list of {entry.items}s" if entry.items else "a list"
    return {"integer": "an integer (whole number)", "boolean": "true or false"}.get(
        entry.type, f"a {entry.type}")


def _describe(text: str, is_object: bool, entry: KeyType) -> str:
    if is_object and entry.type == "array" and text.startswith("["):
        return "is a list with entries that are not strings"
    if is_object:
        return "is a list" if text.startswith("[") else "is a mapping"
    shown = text if len(text) <= 40 else text[:37] + "..."
    return f"is {shown!r}"

