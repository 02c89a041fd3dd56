"""Stacks served from the plan cache by the parent process: no worker, no SDK import.

A stack whose entry is cached with its verdict gets its plan file written from the entry and
its result from the verdict; against a base it is diffed here. Only the others go to the
worker pool, so a fleet where one stack file changed previews that one stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cmkctl.fleet import cache
from cmkctl.fleet.job import VERDICT_COUNTS, FleetJob, job_key, stack_result

Done = Callable[[dict[str, Any]], None]
_VIOLATION = {"policy": str, "urn": str, "level": str, "message": str, "undecided": bool}
_UNCHANGED = {"changes": dict, "findings": list, "notices": list, "destructive": int,
              "newStack": bool, "baseError": type(None)}


def _verdict(entry: cache.Entry) -> dict[str, Any] | None:
    """The entry's verdict when it has the shape a result needs, else None (a miss)."""
    verdict = entry.verdict
    if verdict is None or set(verdict) != {*VERDICT_COUNTS, "violations"}:
        return None
    counts_ok = all(type(verdict[count]) is int for count in VERDICT_COUNTS)
    violations = verdict["violations"]
    violations_ok = isinstance(violations, list) and all(
        isinstance(v, dict) and set(v) == set(_VIOLATION)
        and all(isinstance(v[k], t) for k, t in _VIOLATION.items())
        for v in violations)
    return verdict if counts_ok and violations_ok else None


def _unchanged(entry: cache.Entry) -> dict[str, Any] | None:
    """The entry's review of its plan against itself, when it has the summary's shape."""
    review = entry.unchanged
    if review is None or set(review) != set(_UNCHANGED) \
            or not all(isinstance(review[k], t) for k, t in _UNCHANGED.items()) \
            or review["findings"] or review["notices"] or review["destructive"]:
        return None
    changes = review["changes"]
    return review if all(type(n) is int for n in changes.values()) else None


def _against_base(base_plan: Path, entry: cache.Entry,
                  result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with its review against the base: the entry's own when the base plan has
    the same bytes (nothing changed), else a diff."""
    from cmkctl.fleet.against_base import against_base  # noqa: PLC0415 - a diff is needed
    from cmkctl.plan.reader import PlanError  # noqa: PLC0415

    unchanged = _unchanged(entry)
    try:
        if unchanged is not None and base_plan.read_bytes() == entry.plan_text.encode():
            return result | unchanged
    except OSError:
        pass  # no base plan: a new stack, which against_base reports
    try:
        return result | against_base(base_plan, json.loads(entry.plan_text))
    except PlanError as error:
        return stack_result(result["stack"], str(error))


def serve(job: FleetJob, stacks: list[str], done: Done) -> dict[str, dict[str, Any]]:
    """Results of the stacks of ``stacks`` that the cache holds, by stack name."""
    served: dict[str, dict[str, Any]] = {}
    if job.cache_dir is None:
        return served
    for stack in stacks:
        key = job_key(job, stack)
        entry = None if key is None else cache.load(job.cache_dir, key, stack, job.stack_dir)
        verdict = None if entry is None else _verdict(entry)
        if entry is None or verdict is None:
            continue
        result = stack_result(stack) | verdict
        (job.out_dir / f"{stack}.json").write_text(entry.plan_text, encoding="utf-8")
        if job.base_dir is not None:
            result = _against_base(job.base_dir / f"{stack}.json", entry, result)
        served[stack] = result
        done(result)
    return served
