"""``cmkctl check`` agrees with the policy SDK's own analyzer on the same plan.

The SDK's analyzer servicer is what the Pulumi CLI talks to over gRPC; it is driven here
in-process (``_PolicyAnalyzerServicer`` is private, pinned by requirements to
pulumi-policy 1.x) with properties carried as protobuf Structs, so numbers arrive as
floats and unknowns as sentinels, exactly as in a real preview.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime import proto
from pulumi_policy.policy import _PolicyAnalyzerServicer

from cmkctl.plan.reader import PlanResource, read_plan
from policies.pack import PACK_ENFORCEMENT_LEVEL, PACK_NAME, build_policies
from tests.policies.cmk_plan_fixtures import baseline, build_plan, edit, results, without

B = baseline()
BROKEN = edit(edit(without(B, "key-lock"), "kv", "properties.enableSoftDelete", False), "key",
              "properties.keySize", 4096)


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def _provider(resource: PlanResource, by_urn: dict[str, PlanResource]) -> Any:
    provider = by_urn.get(resource.provider_urn or "")
    return None if provider is None else proto.AnalyzerProviderResource(
        type=provider.type, properties=_struct(provider.inputs), urn=provider.urn,
        name=provider.name)


Diagnostic = tuple[str, str, str, bool]
"""policy, urn, level, and whether it is the engine's "can't run during preview" advisory."""


def _diagnostic(d: Any, urn: str) -> Diagnostic:
    level = proto.EnforcementLevel.Name(d.enforcementLevel).lower()
    return d.policyName, d.urn or urn, level, "during preview" in d.message


def _engine(plan: dict[str, Any]) -> set[Diagnostic]:
    """Every diagnostic the SDK's analyzer gives for the plan's resources and stack."""
    resources = read_plan(plan)
    by_urn = {r.urn: r for r in resources}
    servicer = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", build_policies(),
                                       PACK_ENFORCEMENT_LEVEL)
    found: set[Diagnostic] = set()
    for r in resources:
        request = proto.AnalyzeRequest(type=r.type, properties=_struct(r.inputs), urn=r.urn,
                                       name=r.name,
                                       options=proto.AnalyzerResourceOptions(protect=r.protect))
        if (provider := _provider(r, by_urn)) is not None:
            request.provider.CopyFrom(provider)
        found |= {_diagnostic(d, r.urn) for d in servicer.Analyze(request, None).diagnostics}  # type: ignore[no-untyped-call]
    stack = proto.AnalyzeStackRequest()
    for r in resources:
        item = stack.resources.add(type=r.type, properties=_struct(r.outputs), urn=r.urn,
                                   name=r.name, parent=r.parent or "",
                                   dependencies=list(r.dependencies),
                                   options=proto.AnalyzerResourceOptions(protect=r.protect))
        for prop, urns in r.property_dependencies.items():
            item.propertyDependencies[prop].urns.extend(urns)
        if (provider := _provider(r, by_urn)) is not None:
            item.provider.CopyFrom(provider)
    return found | {_diagnostic(d, "") for d in servicer.AnalyzeStack(stack, None).diagnostics}  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(("specs", "first_preview"), [
    (B, False), (BROKEN, False), (B, True), (baseline(rbac=False), True)],
    ids=["compliant", "broken", "first-preview", "access-policy-first-preview"])
def test_offline_check_reports_what_the_analyzer_reports(specs: list[Any],
                                                         first_preview: bool) -> None:
    plan = build_plan(specs, first_preview=first_preview)
    engine = _engine(plan)
    offline = results(plan)
    assert {(r.policy, r.urn, r.level.value) for r in offline if not r.undecided} == {
        (policy, urn, level) for policy, urn, level, undecided in engine if not undecided}
    assert {r.policy for r in offline if r.undecided} == {
        policy for policy, _, level, undecided in engine if undecided and level == "advisory"}
    assert bool(engine) == (specs is not B or first_preview)
