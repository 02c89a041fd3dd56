"""The resource tree a reviewer reads, in the style of ``pulumi preview``."""

from __future__ import annotations

import json
from collections import defaultdict

from cmkctl.plan.digest import masked
from cmkctl.plan.recorder import Recorded, Recording


def render_tree(recording: Recording) -> str:
    """One line per resource under its parent; guarded resources are marked."""
    children: dict[str, list[Recorded]] = defaultdict(list)
    for resource in recording.resources:
        children[resource.parent or recording.stack_urn].append(resource)
    root_name = f"{recording.project}-{recording.stack}"
    lines = [f"+ pulumi:pulumi:Stack  {root_name}  create"]

    def walk(urn: str, prefix: str) -> None:
        kids = children.get(urn, [])
        for index, resource in enumerate(kids):
            last = index == len(kids) - 1
            marks = [
                m
                for m, on in (
                    ("protected", resource.protect),
                    ("retained on delete", resource.retain_on_delete),
                )
                if on
            ]
            suffix = f"  [{', '.join(marks)}]" if marks else ""
            branch = "└─ " if last else "├─ "
            sign, op = (">", "read") if resource.read else ("+", "create")
            lines.append(f"{sign} {prefix}{branch}{resource.type}  {resource.name}  {op}{suffix}")
            walk(resource.urn, prefix + ("   " if last else "│  "))

    walk(recording.stack_urn, "")
    created = sum(not r.read for r in recording.resources) + 1
    reads = len(recording.resources) + 1 - created
    lines.append(f"Resources: {created} to create" + (f", {reads} to read" if reads else ""))
    lines.extend(render_outputs(recording))
    return "\n".join(lines)


def render_outputs(recording: Recording) -> list[str]:
    """The stack outputs as ``pulumi up`` lists them (what the customer shares, what the
    provider needs), so a reviewer need not dig them out of the JSON; secrets masked."""
    if not recording.stack_outputs:
        return []
    return ["Outputs:"] + [
        f"    {name}: {json.dumps(masked(value), sort_keys=True)}"
        for name, value in sorted(recording.stack_outputs.items())
    ]
