"""One stack of a fleet: preview offline, write the plan, check it with the pack.

Runs in a worker process that imports the SDKs, the program's components and the pack once
and then serves many stacks; the pack's policy objects and configuration are built once per
process too. Every failure of one stack becomes its ``error`` line, never an exception that
would stop the others.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import FrameType
from typing import Any

from pulumi_policy import Policy

from cmkctl.check import configurable, verdicts
from cmkctl.diff import ROOT_STACK, SUMMARY_OPS, compare
from cmkctl.plan_policy_config import ConfigError as PackConfigError
from cmkctl.plan_policy_config import PackConfig, load_pack_config
from cmkctl.plan_policy_runner import PolicyCrashError
from cmkctl.plan_reader import PlanError, read_steps, resources_after
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
    base_dir: Path | None = None
    """Base plans ``base_dir/<stack>.json`` to diff against; None: no diff."""
    stack_timeout: float = 600.0
    """Seconds one stack may take before it is reported as hung and the next one starts."""


class StackTimeoutError(Exception):
    """A stack's program did not finish in time (an output that never resolves)."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`StackTimeoutError` in this thread after ``seconds``. A hang guard that
    needs the main thread (signals); elsewhere it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signal: int, _frame: FrameType | None) -> None:
        raise StackTimeoutError(f"did not finish within {seconds:g} s; the program is stuck "
                                "(an output that never resolves?)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class FleetConfigError(Exception):
    """The policy configuration cannot be used; every stack would fail the same way."""


@cache
def _pack(policy_config: str | None) -> tuple[list[Policy], PackConfig]:
    policies = build_policies()
    try:
        return policies, load_pack_config(policy_config, configurable(policies))
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
    if isinstance(error, (PreviewError, PolicyCrashError, FleetConfigError, PlanError,
                          StackTimeoutError)):
        return str(error)
    return f"the program failed: {type(error).__name__}: {error}"


def stack_result(stack: str, error: str | None = None) -> dict[str, Any]:
    """A ``summary.json`` stack entry before any verdict: nothing found yet, or failed."""
    return {
        "stack": stack, "ok": False, "resources": 0, "mandatory": 0, "advisory": 0,
        "undecided": 0, "undecidedMandatory": 0, "destructive": 0, "error": error,
        "violations": [],
    }


def run_stack(job: FleetJob, stack: str) -> dict[str, Any]:
    """Preview and check ``stack`` (and diff it against its base plan when the job has a
    base); the result is one entry of ``summary.json``'s stacks."""
    result = stack_result(stack)
    try:
        with deadline(job.stack_timeout):
            plan = build_plan(stack, root=job.root, stack_dir=job.stack_dir)
        steps = read_steps(plan)
        (job.out_dir / f"{stack}.json").write_text(json.dumps(plan, indent=2) + "\n")
        policies, config = _pack(job.policy_config)
        found, counts = verdicts(steps, policies, config)
        if job.base_dir is not None:
            result |= _against_base(job.base_dir / f"{stack}.json", plan)
    except Exception as error:  # one stack's failure is its report, not the fleet's
        result["error"] = stack_error(error)
        return result
    result.update(
        resources=counts["resources"], mandatory=counts["mandatory"],
        advisory=counts["advisory"], undecided=counts["undecided"],
        undecidedMandatory=counts["undecidedMandatory"],
        violations=[
            {"policy": r.policy, "urn": r.urn, "level": r.level.value, "message": r.message,
             "undecided": r.undecided}
            for r in found
        ],
    )
    return result


def _against_base(base_plan: Path, plan: dict[str, Any]) -> dict[str, Any]:
    """Op counts and destructive findings of ``plan`` against the base plan; a stack without
    a base plan is new, so everything in it is a create."""
    if not base_plan.is_file():
        created = sum(r.type != ROOT_STACK for r in resources_after(read_steps(plan)))
        failed = base_plan.with_suffix(".base-error.txt")
        return {"changes": {**dict.fromkeys(SUMMARY_OPS, 0), "create": created},
                "findings": [], "destructive": 0, "newStack": not failed.is_file(),
                "baseError": failed.read_text().strip() if failed.is_file() else None}
    try:
        base = json.loads(base_plan.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PlanError(f"base plan {base_plan}: cannot be read ({error})") from None
    review = compare(base, plan)
    findings = [
        {"urn": r.urn, "type": r.type, "op": r.op, "risk": f.risk.value, "title": f.title,
         "what": f.what, "safe": f.safe}
        for r in review.destructive for f in r.findings if f.risk is not None
    ]
    summary = review.summary
    return {"changes": {op: summary[op] for op in SUMMARY_OPS}, "findings": findings,
            "destructive": len(review.destructive), "newStack": False, "baseError": None}
