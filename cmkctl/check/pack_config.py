"""The ``--policy-pack-config`` file, read and validated as the Pulumi CLI does.

Format: ``{"all": "mandatory", "<policy>": "disabled"}`` or
``{"<policy>": {"enforcementLevel": "advisory", "<parameter>": value}}``. Levels apply
in order: the rule's own level, then ``all``, then the policy's entry. Parameters get the
schema defaults and are validated against the schema (the subset of JSON Schema the
pack uses). An unknown policy or parameter name is an error, because offline a typo
would otherwise silently check nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pulumi_policy import EnforcementLevel, PolicyConfigSchema

ALL = "all"
LEVEL_KEY = "enforcementLevel"
_LEVELS = {level.value: level for level in EnforcementLevel}
_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,), "number": (int, float), "boolean": (bool,), "string": (str,),
    "array": (list,), "object": (dict,),
}
_ANNOTATIONS = frozenset({"description", "default", "title"})


class Configurable(Protocol):
    """A pack policy, or a rule only ``cmkctl`` evaluates: what its configuration needs."""

    @property
    def name(self) -> str: ...

    @property
    def enforcement_level(self) -> EnforcementLevel | None: ...

    @property
    def config_schema(self) -> PolicyConfigSchema | None: ...


class ConfigError(Exception):
    """The policy pack configuration is unreadable or does not fit the pack."""


@dataclass(frozen=True)
class PackConfig:
    """Enforcement levels and parameters the user chose, over the pack's defaults."""

    all_level: EnforcementLevel | None = None
    levels: Mapping[str, EnforcementLevel] = field(default_factory=dict)
    parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def level(self, policy: Configurable, pack_default: EnforcementLevel) -> EnforcementLevel:
        if policy.name in self.levels:
            return self.levels[policy.name]
        if self.all_level is not None:
            return self.all_level
        return policy.enforcement_level or pack_default


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def schema_errors(value: Any, schema: Mapping[str, Any], path: str) -> list[str]:
    """Violations of a JSON-schema subset: type, enum, bounds, items, properties, pattern."""
    unsupported = set(schema) - _ANNOTATIONS - {
        "type", "enum", "minimum", "maximum", "minItems", "maxItems", "uniqueItems", "items",
        "properties", "additionalProperties", "required", "pattern"}
    if unsupported:
        raise ValueError(f"{path}: schema keywords {sorted(unsupported)} are not supported")
    if "type" in schema and not _is_type(value, schema["type"]):
        return [f"{path} must be of type {schema['type']}"]
    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path} must be one of {schema['enum']}")
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{path} must be >= {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        errors.append(f"{path} must be <= {schema['maximum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path} must match {schema['pattern']}")
    if isinstance(value, list):
        errors += _array_errors(value, schema, path)
    if isinstance(value, dict):
        errors += _object_errors(value, schema, path)
    return errors


def _array_errors(value: list[Any], schema: Mapping[str, Any], path: str) -> list[str]:
    errors: list[str] = []
    if len(value) < schema.get("minItems", 0):
        errors.append(f"{path} needs at least {schema['minItems']} item(s)")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{path} allows at most {schema['maxItems']} item(s)")
    if schema.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) < len(
            value):
        errors.append(f"{path} has duplicate items")
    for index, item in enumerate(value):
        errors += schema_errors(item, schema.get("items", {}), f"{path}[{index}]")
    return errors


def _object_errors(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> list[str]:
    errors = [f"{path}.{key} is required" for key in schema.get("required", [])
              if key not in value]
    known = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in known:
            errors += schema_errors(item, known[key], f"{path}.{key}")
        elif extra is False:
            errors.append(f"{path}.{key} is not a known property")
        elif isinstance(extra, dict):
            errors += schema_errors(item, extra, f"{path}.{key}")
    return errors


def _level(value: Any, where: str) -> EnforcementLevel:
    if not isinstance(value, str) or value not in _LEVELS:
        raise ConfigError(f"{where}: enforcement level must be one of {', '.join(_LEVELS)}")
    return _LEVELS[value]


def parse_pack_config(data: Any, policies: Sequence[Configurable]) -> PackConfig:
    """Validate ``data`` against the pack; every problem found is in the one error."""
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a JSON object")
    by_name = {policy.name: policy for policy in policies}
    all_level: EnforcementLevel | None = None
    levels: dict[str, EnforcementLevel] = {}
    parameters: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for name, entry in data.items():
        try:
            if name == ALL:
                value = entry.get(LEVEL_KEY) if isinstance(entry, dict) and set(entry) == {
                    LEVEL_KEY} else entry
                all_level = _level(value, ALL)
                continue
            if name not in by_name:
                raise ConfigError(f"unknown policy {name!r}")
            if isinstance(entry, str):
                levels[name] = _level(entry, name)
                continue
            if not isinstance(entry, dict):
                raise ConfigError(f"{name}: expected an enforcement level or an object")
            given = {k: v for k, v in entry.items() if k != LEVEL_KEY}
            if LEVEL_KEY in entry:
                levels[name] = _level(entry[LEVEL_KEY], name)
            parameters[name] = given
        except ConfigError as error:
            errors.append(str(error))
    for policy in policies:
        errors += _parameter_errors(policy, parameters.get(policy.name, {}))
    if errors:
        raise ConfigError("; ".join(errors))
    return PackConfig(all_level, levels, parameters)


def _parameter_errors(policy: Configurable, given: Mapping[str, Any]) -> list[str]:
    properties = policy.config_schema.properties if policy.config_schema else {}
    required = (policy.config_schema.required or []) if policy.config_schema else []
    effective = {k: spec["default"] for k, spec in properties.items() if "default" in spec}
    effective.update(given)
    schema = {"type": "object", "properties": properties, "required": required,
              "additionalProperties": False}
    return schema_errors(effective, schema, policy.name)


def load_pack_config(path: str | None, policies: Sequence[Configurable]) -> PackConfig:
    """Read a configuration file (``None``: the pack's defaults)."""
    if path is None:
        return PackConfig()
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as error:
        raise ConfigError(error.strerror or str(error)) from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"not valid JSON ({error})") from error
    return parse_pack_config(data, policies)
