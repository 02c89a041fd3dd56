"""Vaults use the Azure RBAC permission model rather than access policies.

Advisory: the vendor accepts an access policy too. RBAC grants are scoped per key, show up
in the activity log and cannot be overwritten by an inline access-policy list.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.checks import require_true
from policies.framework import AZURE_POLICY_URL, Anchor, Finding, RuleMeta, resource_rule
from policies.resource_kinds import Kind

GUID = "12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5"

META = RuleMeta(
    name="vault-rbac-authorization",
    description="Key vaults use the Azure RBAC permission model.",
    level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    anchors=(Anchor("Azure Policy", GUID, "Azure Key Vault should use RBAC permission model"),),
    remediation=("Set properties.enableRbacAuthorization to true and grant the provider app the "
                 "Key Vault Crypto Service Encryption User role on the key instead of an "
                 "access policy."),
    url=AZURE_POLICY_URL.format(GUID),
)


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    yield from require_true(args.props, "properties", "enableRbacAuthorization", kind=Kind.VAULT)


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.VAULT}), check)
