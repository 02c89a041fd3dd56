"""``cmkctl check``: the policy pack on a plan file, without the Pulumi CLI or a cloud.

The plan is a ``pulumi preview --json`` digest (real, or written by ``cmkctl preview``).
Exit status: 0 without mandatory violations, 1 with any, 2 when the plan or the policy
configuration cannot be used (one line on stderr naming the file and the problem).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any, Final, TextIO

from pulumi_policy import EnforcementLevel

from cmkctl.plan_policy_config import ConfigError, load_pack_config
from cmkctl.plan_policy_runner import PolicyCrashError, Result, evaluate
from cmkctl.plan_reader import PlanError, load_plan
from policies.pack import PACK_ENFORCEMENT_LEVEL, build_policies

FORMATS: Final = ("text", "json")
EXIT_OK: Final = 0
EXIT_MANDATORY: Final = 1
EXIT_UNUSABLE: Final = 2


def _summary(results: list[Result], policies: int, resources: int) -> dict[str, int]:
    levels = Counter(r.level.value for r in results if not r.undecided)
    return {
        "mandatory": levels[EnforcementLevel.MANDATORY.value],
        "advisory": levels[EnforcementLevel.ADVISORY.value],
        "undecided": sum(r.undecided for r in results),
        "policies": policies,
        "resources": resources,
    }


def _json(results: list[Result], summary: dict[str, int]) -> str:
    document: dict[str, Any] = {
        "violations": [{"policy": r.policy, "urn": r.urn, "enforcementLevel": r.level.value,
                        "message": r.message} for r in results],
        "summary": summary,
    }
    return json.dumps(document, indent=2)


def _text(results: list[Result], summary: dict[str, int]) -> str:
    lines = [f"[{r.level.value}] {r.policy}: {r.message}\n    {r.urn or '(stack)'}"
             for r in results]
    lines.append(f"{summary['mandatory']} mandatory and {summary['advisory']} advisory "
                 f"violation(s), {summary['undecided']} verdict(s) undecided until apply; "
                 f"{summary['policies']} policies on {summary['resources']} resources.")
    return "\n".join(lines)


def run(plan_path: str, config_path: str | None, fmt: str, out: TextIO) -> int:
    """Check ``plan_path`` and print the verdicts to ``out`` as ``text`` or ``json``."""
    if fmt not in FORMATS:
        print(f"error: unknown format {fmt!r}; use one of {', '.join(FORMATS)}", file=sys.stderr)
        return EXIT_UNUSABLE
    policies = build_policies()
    try:
        resources = load_plan(plan_path)
    except PlanError as error:
        print(f"error: plan {plan_path}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        config = load_pack_config(config_path, policies)
    except ConfigError as error:
        print(f"error: policy configuration {config_path}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        results = evaluate(resources, policies, config, PACK_ENFORCEMENT_LEVEL)
    except PolicyCrashError as error:
        print(f"error: plan {plan_path}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    enabled = sum(config.level(p, PACK_ENFORCEMENT_LEVEL) != EnforcementLevel.DISABLED
                  for p in policies)
    summary = _summary(results, enabled, len(resources))
    print(_json(results, summary) if fmt == "json" else _text(results, summary), file=out)
    return EXIT_MANDATORY if summary["mandatory"] else EXIT_OK

