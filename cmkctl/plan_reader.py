"""Reading a ``pulumi preview --json`` plan (PreviewDigest) into the resources it leaves.

Deleted URNs are dropped, a URN appearing in several steps (replacements) keeps its
last new state, and redacted secrets (``"[secret]"``) become unknown values: the plan
does not say what they are, so no rule may treat them as known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

SECRET: Final = "[secret]"
GONE_OPS: Final = frozenset({"delete", "discard", "read-discard"})
"""Steps after which the URN is no longer in the stack."""
OLD_STATE_OPS: Final = frozenset({"delete-replaced", "discard-replaced", "remove-pending-replace"})
"""Steps about the replaced copy of a URN whose replacement stays."""


class PlanError(Exception):
    """The plan file cannot be read or is not a PreviewDigest."""


@dataclass(frozen=True)
class PlanResource:
    """One resource as the stack will hold it after the previewed update."""

    urn: str
    type: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str | None
    protect: bool
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    provider: str | None
    """``<provider urn>::<provider id>`` as the engine records it."""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def provider_urn(self) -> str | None:
        return self.provider.rsplit("::", 1)[0] if self.provider else None


def _unredact(value: Any) -> Any:
    if value == SECRET:
        return UNKNOWN_STRING_VALUE
    if isinstance(value, list):
        return [_unredact(v) for v in value]
    if isinstance(value, dict):
        return {k: _unredact(v) for k, v in value.items()}
    return value


def _bag(state: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = state.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PlanError(f"{where}.{key} is not an object")
    bag: dict[str, Any] = _unredact(value)
    return bag


def _urns(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise PlanError(f"{where} is not a list of URNs")
    return tuple(value)


def _resource(state: Mapping[str, Any], where: str) -> PlanResource:
    urn, type_ = state.get("urn"), state.get("type")
    if not isinstance(urn, str) or not isinstance(type_, str):
        raise PlanError(f"{where} has no urn or type")
    raw_deps = state.get("propertyDependencies")
    raw_deps = {} if raw_deps is None else raw_deps
    if not isinstance(raw_deps, dict):
        raise PlanError(f"{where}.propertyDependencies is not an object")
    inputs = _bag(state, "inputs", where)
    return PlanResource(
        urn=urn,
        type=type_,
        inputs=inputs,
        # A previewed create may carry no outputs; the engine then shows its inputs.
        outputs=_bag(state, "outputs", where) or inputs,
        parent=state.get("parent") or None,
        protect=bool(state.get("protect", False)),
        dependencies=_urns(state.get("dependencies"), f"{where}.dependencies"),
        property_dependencies={k: _urns(v, f"{where}.propertyDependencies.{k}")
                               for k, v in raw_deps.items()},
        provider=state.get("provider") or None,
    )


def read_plan(digest: Any) -> list[PlanResource]:
    """Resources of a PreviewDigest, in step order."""
    if not isinstance(digest, dict) or not isinstance(digest.get("steps"), list):
        raise PlanError("not a `pulumi preview --json` plan: no steps list")
    resources: dict[str, PlanResource] = {}
    for index, step in enumerate(digest["steps"]):
        where = f"steps[{index}]"
        if not isinstance(step, dict):
            raise PlanError(f"{where} is not an object")
        state, op = step.get("newState"), step.get("op")
        if op in GONE_OPS:
            resources.pop(str(step.get("urn")), None)
            continue
        if op in OLD_STATE_OPS or state is None:
            continue
        if not isinstance(state, dict):
            raise PlanError(f"{where}.newState is not an object")
        resource = _resource(state, f"{where}.newState")
        resources.pop(resource.urn, None)
        resources[resource.urn] = resource
    return list(resources.values())


def load_plan(path: str) -> list[PlanResource]:
    """Read and parse a plan file; every failure is a :class:`PlanError` naming the problem."""
    try:
        with open(path, encoding="utf-8") as handle:
            digest = json.load(handle)
    except OSError as error:
        raise PlanError(error.strerror or str(error)) from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PlanError(f"not valid JSON ({error})") from error
    return read_plan(digest)
