"""One stack of a fleet: preview offline, write the plan, check it with the pack.

Runs in a worker process (:mod:`cmkctl.fleet.pool`, which stops a stack that takes too
long by killing that process) that imports the SDKs, the program's components and the pack once
and then serves many stacks; the pack's policy objects and configuration are built once per
process too (:func:`cmkctl.fleet.job.load_pack`). Every failure of one stack becomes its
``error`` line, never an exception that would stop the others.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from cmkctl.check.run import verdicts
from cmkctl.check.runner import PolicyCrashError
from cmkctl.fleet.against_base import against, against_base
from cmkctl.fleet.cache import store
from cmkctl.fleet.job import (
    VERDICT_COUNTS,
    FleetConfigError,
    FleetJob,
    job_key,
    load_pack,
    stack_result,
)
from cmkctl.plan.digest import plan_text
from cmkctl.plan.preview import PreviewError, plan_and_references
from cmkctl.plan.reader import PlanError, load_digest, read_steps
from components.config.problems import ConfigError


def stack_error(error: BaseException) -> str:
    """One message for a failed stack: what went wrong, never a traceback."""
    if isinstance(error, ConfigError):
        return error.render()
    if isinstance(error, (PreviewError, PolicyCrashError, FleetConfigError, PlanError)):
        return str(error)
    return f"the program failed: {type(error).__name__}: {error}"


def run_stack(job: FleetJob, stack: str) -> dict[str, Any]:
    """Preview and check ``stack`` (and diff it against its base plan when the job has a
    base); the result is one entry of ``summary.json``'s stacks. With ``job.plans_dir`` the
    plan is read from there instead of previewed; with a cache, a previewed plan and its
    verdict are recorded under the stack's key (:mod:`cmkctl.fleet.cache`)."""
    result = stack_result(stack)
    key = job_key(job, stack)
    try:
        references: tuple[str, ...] = ()
        if job.plans_dir is not None:
            plan = given_plan(job.plans_dir, stack)
        else:
            plan, references = plan_and_references(stack, root=job.root,
                                                   stack_dir=job.stack_dir)
        steps = read_steps(plan)
        text = plan_text(plan)
        (job.out_dir / f"{stack}.json").write_text(text, encoding="utf-8")
        policies, config = load_pack(job.policy_config)
        found, counts = verdicts(steps, policies, config)
        verdict: dict[str, Any] = {
            **{count: counts[count] for count in VERDICT_COUNTS},
            "violations": [
                {"policy": r.policy, "urn": r.urn, "level": r.level.value, "message": r.message,
                 "undecided": r.undecided}
                for r in found
            ],
        }
        if job.cache_dir is not None and key is not None:
            store(job.cache_dir, key, stack, job.stack_dir, text, references, verdict,
                  against(plan, plan))
        if job.base_dir is not None:
            result |= against_base(job.base_dir / f"{stack}.json", plan)
    except Exception as error:  # one stack's failure is its report, not the fleet's
        result["error"] = stack_error(error)
        return result
    result.update(verdict)
    return result


def given_plan(plans_dir: Path, stack: str) -> Any:
    """``plans_dir/<stack>.json``, a plan made elsewhere (by the pull request's own code, or a
    real ``pulumi preview --json``) that this gate judges. Only a regular file directly in
    the directory is read; a missing plan fails the stack, with the reason the producing
    run gave when it gave one."""
    path = plans_dir / f"{stack}.json"
    if path.is_file() and not path.is_symlink():
        try:
            return load_digest(str(path))
        except PlanError as error:
            raise PlanError(f"plan {path.name}: {error}") from None
    reason = _producer_errors(plans_dir).get(stack)
    raise PlanError(f"no plan {path.name} in {plans_dir}: the preview of this stack did not "
                    "produce one" + (f"; its run reported: {reason}" if reason else ""))


@cache
def _producer_errors(plans_dir: Path) -> dict[str, str]:
    """Each failed stack's error from the ``summary.json`` of the run that made the plans.
    Only ever shown as the reason a plan is missing: it can fail a stack, never pass one."""
    try:
        document = json.loads((plans_dir / "summary.json").read_text(encoding="utf-8"))
        return {s["stack"]: s["error"] for s in document["stacks"]
                if isinstance(s.get("stack"), str) and isinstance(s.get("error"), str)}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
