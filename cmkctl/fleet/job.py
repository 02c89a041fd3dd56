"""What every stack of a fleet run shares, and what one stack reports.

Light on purpose: the parent process of a fleet run imports only this (and the pack, to
check its configuration once); the SDKs and the program load in the workers' fork server.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmkctl.fleet.cache import stack_key

if TYPE_CHECKING:
    from pulumi_policy import Policy

    from cmkctl.check.pack_config import PackConfig


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
    plans_dir: Path | None = None
    """Judge the plans ``plans_dir/<stack>.json`` made elsewhere instead of previewing: the
    gate from a trusted checkout, the plans from the code under review."""
    stack_timeout: float = 600.0
    """Seconds one stack may take; then its worker process is killed, the stack reported as
    stopped, and the next one starts."""
    fleet_timeout: float = 3600.0
    """Seconds the whole run may take; then every worker is killed, the stacks still running
    or waiting are reported as stopped, and the summary is written."""
    cache_dir: Path | None = None
    """The plan cache (:mod:`cmkctl.fleet.cache`); None: every stack runs."""
    program: str = ""
    """The program digest the cache keys start from, computed once by the parent."""


VERDICT_COUNTS = ("resources", "mandatory", "advisory", "undecided", "undecidedMandatory")
"""The check's counts in a stack's entry (with its ``violations``): what the cache keeps."""


def job_key(job: FleetJob, stack: str) -> str | None:
    """The cache key of ``stack`` in this run; None without a cache or a readable file, and
    when the plans are given (``plans_dir``): those are not this program's to vouch for."""
    if job.cache_dir is None or job.plans_dir is not None:
        return None
    return stack_key(job.program, job.policy_config, job.stack_dir, stack)


def stack_result(stack: str, error: str | None = None,
                 stopped: str | None = None) -> dict[str, Any]:
    """A ``summary.json`` stack entry before any verdict: nothing found yet, or failed;
    ``stopped`` says why a stack that did not finish was stopped (stack timeout or fleet
    deadline)."""
    return {
        "stack": stack, "ok": False, "resources": 0, "mandatory": 0, "advisory": 0,
        "undecided": 0, "undecidedMandatory": 0, "destructive": 0, "error": error,
        "stopped": stopped, "violations": [],
    }


class FleetConfigError(Exception):
    """The policy configuration cannot be used; every stack would fail the same way."""


@cache
def load_pack(policy_config: str | None) -> tuple[list[Policy], PackConfig]:
    """The pack's policies and configuration, built once per process."""
    # Imported here: generate and merge never need the pack.
    from cmkctl.check.pack_config import ConfigError, load_pack_config  # noqa: PLC0415
    from cmkctl.check.run import configurable  # noqa: PLC0415
    from policies.pack import build_policies  # noqa: PLC0415

    policies = build_policies()
    try:
        return policies, load_pack_config(policy_config, configurable(policies))
    except ConfigError as error:
        raise FleetConfigError(f"policy configuration {policy_config}: {error}") from None


def pack_problem(policy_config: str | None) -> str | None:
    """Why the policy configuration is unusable, or None; asked once before any stack runs."""
    try:
        load_pack(policy_config)
    except FleetConfigError as error:
        return str(error)
    return None
