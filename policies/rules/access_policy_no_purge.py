"""No access policy grants purge, except to the listed top-level administrators.

The vendor's best practice: only top-level administrators may purge. ``all`` includes
purge, so it counts too. Purge protection stops purges during retention; this rule keeps
the right itself out of access policies, inline or standalone. Advisory by default (the
recovery window holds either way); list the administrators' object ids in
``administratorObjectIds``. Role assignments are judged by ``purge-role-only-administrators``.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.access_policies import ADMINISTRATORS, PERMISSION_LISTS, entries
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import is_unknown
from policies.resource_kinds import Kind

META = RuleMeta(
    name="access-policy-no-purge",
    description=("No key vault access policy grants purge (or all) on any object type to a "
                 "principal outside the administrators."),
    level=EnforcementLevel.ADVISORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "no-purge-rights",
                    "principals without top-level administrator rights get no purge right"),),
    remediation=("Remove purge and all from every access policy; administrators who must purge "
                 "get a time-bound RBAC role outside this stack."),
    url="https://learn.microsoft.com/azure/key-vault/general/key-vault-recovery",
    parameters={"administratorObjectIds": ADMINISTRATORS},
)


def check(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    admins = {str(a).lower() for a in config["administratorObjectIds"]}
    for entry in entries(args.resource_type, args.props):
        if entry is None:
            yield Undecided("an access-policy entry is unknown")
            continue
        if isinstance(entry.object_id, str) and entry.object_id.lower() in admins:
            continue
        for kind in PERMISSION_LISTS:
            granted = entry.permissions[kind]
            if is_unknown(granted):
                yield Undecided(f"{entry.where}.permissions.{kind} is unknown")
            elif bad := sorted(granted & {"purge", "all"}):
                yield Violation(f"{entry.where} (objectId {entry.object_id!r}) grants "
                                f"{kind} {', '.join(bad)}.")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.VAULT, Kind.ACCESS_POLICY}), check)
