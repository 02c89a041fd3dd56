"""One stack of a fleet: preview offline, write the plan, check it with the pack.

Runs in a worker process that imports the SDKs, the program's components and the pack once
and then serves many stacks; the pack's policy objects and configuration are built once per
process too. Every failure of one stack becomes its ``error`` line, never an exception that
would stop the others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pulumi_policy import Policy

from cmkctl.check import verdicts
from cmkctl.plan_policy_config import ConfigError as PackConfigError
from cmkctl.plan_policy_config import PackConfig, load_pack_config
from cmkctl.plan_policy_runner import PolicyCrashError
from cmkctl.plan_reader import read_plan
from cmkctl.preview import PreviewError, build_plan
from components.problems import ConfigError
from policies.pack import build_policies


@dataclass(frozen=True)
class FleetJob:
    """What every stack of one fleet run shares; small, so it travels to workers cheaply."""

    root: Path
    """The project (``Pulumi.yaml`` and ``__main__.py``)."""
    stack_dir: Path
    """Where the ``Pulumi.<stack>.yaml`` files are."""
    out_dir: Path
    """Plans are written to ``out_dir/<stack>.json``."""
    policy_config: str | None = None
    """The pack's ``--policy-pack-config`` file; None: the pack's defaults."""


class FleetConfigError(Exception):
    """The policy configuration cannot be used; every stack would fail the same way."""


@cache
def _pack(policy_config: str | None) -> tuple[list[Policy], PackConfig]:
    policies = build_policies()
    try:
        return policies, load_pack_config(policy_config, policies)
    except PackConfigError as error:
        raise FleetConfigError(f"policy configuration {policy_config}: {error}") from None


def pack_problem(policy_config: str | None) -> str | None:
    """Why the policy configuration is unusable, or None; asked once before any stack runs."""
    try:
        _pack(policy_config)
    except FleetConfigError as error:
        return str(error)
    return None


def stack_error(error: BaseException) -> str:
    """One message for a failed stack: what went wrong, never a traceback."""
    if isinstance(error, ConfigError):
        return error.render()
    if isinstance(error, (PreviewError, PolicyCrashError, FleetConfigError)):
        return str(error)
    return f"the program failed: {type(error).__name__}: {error}"


def stack_result(stack: str, error: str | None = None) -> dict[str, Any]:
    """A ``summary.json`` stack entry before any verdict: nothing found yet, or failed."""
    return {
        "stack": stack, "ok": False, "resources": 0, "mandatory": 0, "advisory": 0,
        "undecided": 0, "destructive": 0, "error": error, "violations": [],
    }


def run_stack(job: FleetJob, stack: str) -> dict[str, Any]:
    """Preview and check ``stack``; the result is one entry of ``summary.json``'s stacks."""
    result = stack_result(stack)
    try:
        plan = build_plan(stack, root=job.root, stack_dir=job.stack_dir)
        resources = read_plan(plan)
        (job.out_dir / f"{stack}.json").write_text(json.dumps(plan, indent=2) + "\n")
        policies, config = _pack(job.policy_config)
        found, counts = verdicts(resources, policies, config)
    except Exception as error:  # one stack's failure is its report, not the fleet's
        result["error"] = stack_error(error)
        return result
    result.update(
        resources=counts["resources"], mandatory=counts["mandatory"],
        advisory=counts["advisory"], undecided=counts["undecided"],
        violations=[
            {"policy": r.policy, "urn": r.urn, "level": r.level.value, "message": r.message,
             "undecided": r.undecided}
            for r in found
        ],
    )
    return result
