"""Vault firewall denies by default and lets trusted Microsoft services through.

Storage, SQL and disk encryption sets reach the customer's key as trusted services; a
firewall without the AzureServices bypass cuts them off, a firewall that allows
everything exposes the key endpoint. Public access disabled also counts as deny.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.checks import require_one_of
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import get, is_unknown, same, text
from policies.resource_kinds import Kind

META = RuleMeta(
    name="vault-network-firewall",
    description=("Key vault firewall denies by default (or public access is disabled) and "
                 "allows trusted Microsoft services to bypass it."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(
        Anchor("Checkov", "CKV_AZURE_109", "Ensure that key vault allows firewall rules settings"),
        Anchor("Vendor CMK prerequisites", "trusted-services",
               "allow trusted Microsoft services to bypass the vault firewall"),
        Anchor("Azure Policy", "55615ac9-af46-4a59-874e-391cc3dfb490",
               "Azure Key Vault should have firewall enabled or public network access disabled "
               "(related: this rule also requires the AzureServices bypass)"),
    ),
    remediation=("Set properties.networkAcls.defaultAction to Deny (or "
                 "properties.publicNetworkAccess to Disabled) and "
                 "properties.networkAcls.bypass to AzureServices."),
    url="https://learn.microsoft.com/azure/key-vault/general/network-security",
)


def _denies_by_default(props: Any) -> Iterator[Finding]:
    action = get(props, "properties", "networkAcls", "defaultAction")
    public = get(props, "properties", "publicNetworkAccess")
    if (found := text(action)) and same(found, "Deny"):
        return
    if (found := text(public)) and same(found, "Disabled"):
        return
    if is_unknown(action) or is_unknown(public):
        yield Undecided("properties.networkAcls.defaultAction or publicNetworkAccess is unknown")
    else:
        yield Violation(f"properties.networkAcls.defaultAction is {action!r} and "
                        f"publicNetworkAccess is {public!r}; the vault is reachable from any "
                        "network.")


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    yield from _denies_by_default(args.props)
    yield from require_one_of(args.props, ("properties", "networkAcls", "bypass"),
                              ("AzureServices",))


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.VAULT}), check)
