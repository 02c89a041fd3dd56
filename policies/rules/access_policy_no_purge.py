"""No access policy grants purge: only top-level administrators may purge key material.

``all`` includes purge, so it counts too. Purge protection stops purges during retention;
this rule keeps the right itself out of every access policy, inline or standalone.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.access_policies import PERMISSION_LISTS, entries
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import is_unknown
from policies.resource_kinds import Kind

META = RuleMeta(
    name="access-policy-no-purge",
    description="No key vault access policy grants purge (or all) on any object type.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "no-purge-rights",
                    "principals without top-level administrator rights get no purge right"),),
    remediation=("Remove purge and all from every access policy; administrators who must purge "
                 "get a time-bound RBAC role outside this stack."),
    url="https://learn.microsoft.com/azure/key-vault/general/key-vault-recovery",
)


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    for entry in entries(args.resource_type, args.props):
        if entry is None:
            yield Undecided("an access-policy entry is unknown")
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
