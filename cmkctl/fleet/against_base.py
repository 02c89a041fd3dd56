"""A stack's plan against its base plan: op counts and destructive findings for the summary.

Light (no SDK): the parent process uses it for stacks served from the plan cache, workers for
the stacks they preview.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmkctl.plan.reader import PlanError, read_steps, resources_after
from cmkctl.review.diff import ROOT_STACK, SUMMARY_OPS, compare


def against_base(base_plan: Path, plan: dict[str, Any]) -> dict[str, Any]:
    """Op counts and destructive findings of ``plan`` against the base plan; a stack without
    a base plan is new, so everything in it is a create."""
    if not base_plan.is_file():
        created = sum(r.type != ROOT_STACK for r in resources_after(read_steps(plan)))
        failed = base_plan.with_suffix(".base-error.txt")
        return {"changes": {**dict.fromkeys(SUMMARY_OPS, 0), "create": created},
                "findings": [], "notices": [], "destructive": 0, "newStack": not failed.is_file(),
                "baseError": failed.read_text().strip() if failed.is_file() else None}
    try:
        base = json.loads(base_plan.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PlanError(f"base plan {base_plan}: cannot be read ({error})") from None
    return against(base, plan)


def against(base: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """The summary fields of ``plan`` reviewed against ``base`` (``cmkctl diff``'s review)."""
    review = compare(base, plan)
    findings = [
        {"urn": r.urn, "type": r.type, "op": r.op, "risk": f.label, "title": f.title,
         "what": f.what, "safe": f.safe}
        for r in review.destructive for f in r.findings if f.destructive
    ]
    # Not destructive but worth a line: weakened protection, a key version rotation, a key
    # property change ARM will not apply, a resource kept in Azure.
    notices = [{"urn": r.urn, "type": r.type, "op": r.op, "title": f.title, "what": f.what}
               for r in review.resources for f in r.findings if not f.destructive]
    summary = review.summary
    return {"changes": {op: summary[op] for op in SUMMARY_OPS}, "findings": findings,
            "notices": notices, "destructive": len(review.destructive), "newStack": False,
            "baseError": None}
