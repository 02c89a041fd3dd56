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
from cmkctl.fleet.job import FleetConfigError, FleetJob, load_pack, stack_result
from cmkctl.plan.preview import PreviewError, build_plan
from cmkctl.plan.reader import PlanError, load_digest, read_steps, resources_after
from cmkctl.review.diff import ROOT_STACK, SUMMARY_OPS, compare
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
    plan is read from there instead of previewed."""
    result = stack_result(stack)
    try:
        if job.plans_dir is not None:
            plan = given_plan(job.plans_dir, stack)
        else:
            plan = build_plan(stack, root=job.root, stack_dir=job.stack_dir)
        steps = read_steps(plan)
        (job.out_dir / f"{stack}.json").write_text(json.dumps(plan, indent=2) + "\n")
        policies, config = load_pack(job.policy_config)
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


def _against_base(base_plan: Path, plan: dict[str, Any]) -> dict[str, Any]:
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
