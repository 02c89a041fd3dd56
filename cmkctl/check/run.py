"""``cmkctl check``: the policy pack on a plan file, without the Pulumi CLI or a cloud.

The plan is a ``pulumi preview --json`` digest (real, or written by ``cmkctl preview``).
Besides the pack's rules it evaluates ``no-destructive-changes``, which needs the plan's
delete and replace steps that CrossGuard never shows a policy.

Exit status: 0 without mandatory violations, 1 with any (with ``--strict``, also when a
mandatory rule cannot decide because a value is ``[secret]`` or unknown until apply, or a
stack rule because the plan leaves out unchanged resources), 2 when the plan or the policy
configuration cannot be used, or the preview failed (one line on stderr naming the file and
the problem).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any, Final, TextIO

from pulumi_policy import EnforcementLevel, Policy

from cmkctl.check import deletions
from cmkctl.check.pack_config import ConfigError, Configurable, PackConfig, load_pack_config
from cmkctl.check.runner import PolicyCrashError, Result, evaluate
from cmkctl.plan.reader import PlanError, PlanStep, load, resources_after
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
        "undecidedMandatory": sum(r.blocks_strict for r in results),
        "policies": policies,
        "resources": resources,
    }


def _json(results: list[Result], summary: dict[str, int]) -> str:
    document: dict[str, Any] = {
        "violations": [{"policy": r.policy, "urn": r.urn, "enforcementLevel": r.level.value,
                        "undecided": r.undecided, "ruleLevel": r.rule_level.value,
                        "message": r.message} for r in results],
        "summary": summary,
    }
    return json.dumps(document, indent=2)


def _text(results: list[Result], summary: dict[str, int], strict: bool) -> str:
    def tag(r: Result) -> str:
        return "undecided, blocks --strict" if strict and r.blocks_strict else r.level.value

    lines = [f"[{tag(r)}] {r.policy}: {r.message}\n    {r.urn or '(stack)'}" for r in results]
    lines.append(f"{summary['mandatory']} mandatory and {summary['advisory']} advisory "
                 f"violation(s), {summary['undecided']} verdict(s) undecided until apply "
                 f"({summary['undecidedMandatory']} of mandatory rules); "
                 f"{summary['policies']} policies on {summary['resources']} resources.")
    return "\n".join(lines)


def _deletion_results(steps: list[PlanStep], config: PackConfig) -> list[Result]:
    level = config.level(deletions.META, PACK_ENFORCEMENT_LEVEL)
    if level == EnforcementLevel.DISABLED:
        return []
    if level == EnforcementLevel.REMEDIATE:
        level = EnforcementLevel.MANDATORY
    try:
        found = deletions.check(steps)
    except Exception as error:  # a bug, not a verdict: exit 2, never a pass
        raise PolicyCrashError(f"policy {deletions.META.name} failed: "
                               f"{type(error).__name__}: {error}") from error
    return [Result(deletions.META.name, v.urn or "", level, v.message, False, level)
            for v in found]


def configurable(policies: list[Policy]) -> list[Configurable]:
    """What a policy configuration may name: the pack's policies and the deletion rule."""
    return [*policies, deletions.META]


COMPLETENESS: Final = "plan-lists-every-resource"


def _completeness(partial: str | None) -> list[Result]:
    """Unchanged resources left out of the plan hide locks, grants and keys from the stack
    rules: an undecided verdict of a mandatory kind, which ``--strict`` fails on."""
    if partial is None:
        return []
    return [Result(COMPLETENESS, "", EnforcementLevel.ADVISORY,
                   f"cannot be decided until apply: {partial}; stack rules cannot see them.",
                   True, EnforcementLevel.MANDATORY)]


def verdicts(
    steps: list[PlanStep], policies: list[Policy], config: PackConfig, partial: str | None = None
) -> tuple[list[Result], dict[str, int]]:
    """The pack's verdicts on a plan and their counts (what ``check`` prints); ``partial``
    (why the plan does not list every resource, :attr:`Plan.partial`) makes every stack-rule
    violation undecided and adds one undecided verdict. Raises :class:`PolicyCrashError`
    when a rule fails on something other than an unknown value."""
    resources = resources_after(steps)
    results = evaluate(resources, policies, config, PACK_ENFORCEMENT_LEVEL, partial)
    results += _deletion_results(steps, config)
    results += _completeness(partial)
    enabled = sum(config.level(r, PACK_ENFORCEMENT_LEVEL) != EnforcementLevel.DISABLED
                  for r in configurable(policies))
    return results, _summary(results, enabled, len(resources))


def run(plan_path: str, config_path: str | None, fmt: str, out: TextIO,
        strict: bool = False) -> int:
    """Check ``plan_path`` and print the verdicts to ``out`` as ``text`` or ``json``."""
    if fmt not in FORMATS:
        print(f"error: unknown format {fmt!r}; use one of {', '.join(FORMATS)}", file=sys.stderr)
        return EXIT_UNUSABLE
    policies = build_policies()
    try:
        plan = load(plan_path).require_judgeable()
    except PlanError as error:
        print(f"error: plan {plan_path}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        config = load_pack_config(config_path, configurable(policies))
    except ConfigError as error:
        print(f"error: policy configuration {config_path}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        results, summary = verdicts(list(plan.steps), policies, config, plan.partial)
    except PolicyCrashError as error:
        print(f"error: plan {plan_path}: {' '.join(str(error).split())}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(_json(results, summary) if fmt == "json" else _text(results, summary, strict), file=out)
    failed = summary["mandatory"] or (strict and summary["undecidedMandatory"])
    return EXIT_MANDATORY if failed else EXIT_OK
