"""Turns a recording into the JSON that ``pulumi preview --json`` prints (the PreviewDigest)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from cmkctl.plan.recorder import Recorded, Recording, Secret

SECRET = "[secret]"


def masked(value: Any) -> Any:
    """JSON-ready value with secrets printed the way the CLI prints them."""
    if isinstance(value, Secret):
        return SECRET
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def _state(resource: Recorded) -> dict[str, Any]:
    return {
        "urn": resource.urn,
        "custom": resource.custom,
        "id": resource.id,
        "type": resource.type,
        "inputs": masked(resource.inputs),
        "outputs": masked(resource.outputs),
        "parent": resource.parent,
        "protect": resource.protect,
        "retainOnDelete": resource.retain_on_delete,
        "dependencies": resource.dependencies,
        "provider": resource.provider,
        "propertyDependencies": resource.property_dependencies,
        # The engine's state omits an empty aliases list (ResourceV3 ``aliases,omitempty``).
        **({"aliases": resource.aliases} if resource.aliases else {}),
    }


def plan_text(digest: dict[str, Any]) -> str:
    """The one serialisation of a plan file: committed snapshots compare byte for byte."""
    return json.dumps(digest, indent=2, ensure_ascii=False) + "\n"


def preview_digest(recording: Recording) -> dict[str, Any]:
    """Every resource as a ``create`` (or ``read``) step, the root stack step first with the
    stack outputs. Config keys held encrypted print as ``[secret]``, as the CLI prints them."""
    root = {
        "op": "create",
        "urn": recording.stack_urn,
        "newState": {
            "urn": recording.stack_urn,
            "custom": False,
            "type": "pulumi:pulumi:Stack",
            "inputs": {},
            "outputs": masked(dict(sorted(recording.stack_outputs.items()))),
            "parent": "",
            "protect": False,
            "dependencies": [],
            "provider": "",
        },
    }
    steps = [root]
    for resource in recording.resources:
        op = "read" if resource.read else "create"
        step: dict[str, Any] = {"op": op, "urn": resource.urn, "newState": _state(resource)}
        if resource.provider:
            step["provider"] = resource.provider
        steps.append(step)
    config = {key: SECRET if key in recording.secret_keys else value
              for key, value in sorted(recording.config.items())}
    return {
        "config": config,
        "steps": steps,
        "diagnostics": [],
        "duration": 0,
        "changeSummary": dict(Counter(step["op"] for step in steps)),
    }
