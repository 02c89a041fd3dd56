"""Runs the pack's policies on a plan the way the CrossGuard analyzer does.

Resource policies see each resource's inputs (a read resource's outputs: see
:mod:`cmkctl.check.existing`), stack policies every resource's outputs with
parent, dependencies and property dependencies linked; both see the provider's inputs
and wrapped in ``unknown_checking_proxy``. A policy that touches an unknown value is
reported as advisory "cannot be decided until apply", never as passing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from cmkctl.check.existing import fix_for, observed
from cmkctl.check.pack_config import PackConfig
from cmkctl.plan.reader import PlanResource
from policies.framework import UndecidedError

UNDECIDED_PREFIX = "cannot be decided until apply: "


@dataclass(frozen=True)
class Result:
    """One reported violation, or an undecidable verdict (always advisory)."""

    policy: str
    urn: str
    level: EnforcementLevel
    message: str
    undecided: bool = False
    rule_level: EnforcementLevel = EnforcementLevel.ADVISORY
    """The rule's configured level (an undecided verdict is reported as advisory)."""

    @property
    def blocks_strict(self) -> bool:
        """A mandatory rule could not decide: ``--strict`` fails on it."""
        return self.undecided and self.rule_level == EnforcementLevel.MANDATORY


class PolicyCrashError(Exception):
    """A policy raised something other than an unknown-value error: a bug, not a verdict."""


def _options(resource: PlanResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect or resource.read, ignore_changes=[],
        delete_before_replace=None, aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
        parent=resource.parent)


def _providers(resources: Sequence[PlanResource]) -> dict[str, PolicyProviderResource]:
    return {r.urn: PolicyProviderResource(r.type, unknown_checking_proxy(r.inputs), r.urn, r.name)
            for r in resources if r.type.startswith("pulumi:providers:")}


def stack_resources(resources: Sequence[PlanResource]) -> list[PolicyResource]:
    """Outputs of every resource, linked to parent and dependencies as the engine links them."""
    providers = _providers(resources)
    linked = {r.urn: PolicyResource(r.type, unknown_checking_proxy(r.outputs), r.urn, r.name,
                                    _options(r), providers.get(r.provider_urn or ""), None, [], {})
              for r in resources}
    for r in resources:
        policy_resource = linked[r.urn]
        policy_resource.parent = linked.get(r.parent or "")
        policy_resource.dependencies = [linked[u] for u in r.dependencies if u in linked]
        policy_resource.property_dependencies = {
            prop: [linked[u] for u in urns if u in linked]
            for prop, urns in r.property_dependencies.items()}
    return list(linked.values())


def _run(policy: Policy, urn: str, level: EnforcementLevel,
         validate: Callable[[ReportViolation], object],
         read: Mapping[str, PlanResource] | None = None) -> list[Result]:
    """Results of one validation call; ``urn`` is the resource's, or empty for the stack;
    ``read`` holds the resources read rather than managed, whose fix is an Azure command."""
    results: list[Result] = []

    def report(message: str, violating: str | None = None) -> None:
        target = violating or urn
        fix = fix_for(policy.name, read[target]) if read and target in read else None
        shown = f"{message} Fix the existing vault: {fix}" if fix else message
        results.append(Result(policy.name, target, level, shown, False, level))

    try:
        validate(report)
    except UndecidedError as error:
        results += [Result(policy.name, f.urn or urn, EnforcementLevel.ADVISORY,
                           UNDECIDED_PREFIX + f.reason, True, level) for f in error.findings]
    except UnknownValueError as error:
        results.append(Result(policy.name, urn, EnforcementLevel.ADVISORY,
                              UNDECIDED_PREFIX + error.message, True, level))
    except Exception as error:
        raise PolicyCrashError(f"policy {policy.name} failed on {urn or 'the stack'}: "
                               f"{type(error).__name__}: {error}") from error
    return results


def _undecided(results: list[Result], partial: str) -> list[Result]:
    """Stack-rule violations of a partial plan: the unseen resources may hold what the rule
    missed (a lock, a grant), so each is undecided, never a confident violation."""
    return [r if r.undecided else Result(
        r.policy, r.urn, EnforcementLevel.ADVISORY,
        f"{UNDECIDED_PREFIX}{partial} (seen so far: {r.message})", True, r.rule_level)
        for r in results]


def evaluate(resources: Sequence[PlanResource], policies: Iterable[Policy], config: PackConfig,
             pack_level: EnforcementLevel, partial: str | None = None) -> list[Result]:
    """Every result of every enabled policy, policies in pack order. ``partial`` (why the plan
    does not list every resource) turns stack-rule violations into undecided verdicts."""
    providers = _providers(resources)
    stack = stack_resources(resources)
    read = {r.urn: r for r in resources if r.read}
    results: list[Result] = []
    for policy in policies:
        level = config.level(policy, pack_level)
        if level == EnforcementLevel.DISABLED:
            continue
        if level == EnforcementLevel.REMEDIATE:  # no remediation here: report as the engine does
            level = EnforcementLevel.MANDATORY
        settings: Mapping[str, Any] = config.parameters.get(policy.name, {})
        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(
                    r.type, unknown_checking_proxy(observed(r)), r.urn, r.name, _options(r),
                    providers.get(r.provider_urn or ""), dict(settings))
                results += _run(policy, r.urn, level, functools.partial(policy.validate, args),
                                read)
        elif isinstance(policy, StackValidationPolicy):
            stack_args = StackValidationArgs(stack, dict(settings))
            found = _run(policy, "", level, functools.partial(policy.validate, stack_args), read)
            results += found if partial is None else _undecided(found, partial)
    return results
