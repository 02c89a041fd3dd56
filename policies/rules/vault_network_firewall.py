"""Vault firewall denies by default and lets trusted Microsoft services through.

Storage, SQL and disk encryption sets reach the customer's key as trusted services; a
firewall without the AzureServices bypass cuts them off, a firewall that allows
everything exposes the key endpoint. Public access disabled also counts as deny. Omitted
properties are ARM's defaults: no ``networkAcls`` means every network is allowed, an
omitted bypass is AzureServices. An allow-list entry wider than ``minPrefixLength``
(``0.0.0.0/0`` in particular) opens the vault as much as default Allow.
"""

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.arm_defaults import arm_read
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import elements, get, is_unknown, same, text
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
    parameters={
        "minPrefixLength": {
            "type": "integer", "minimum": 0, "maximum": 32, "default": 16,
            "description": ("Shortest IPv4 prefix an ipRules entry may have (/16 by default); "
                            "0.0.0.0/0 and other wider ranges violate."),
        },
    },
)


def _denies_by_default(props: Any) -> Iterator[Finding]:
    action = arm_read(Kind.VAULT, props, "properties", "networkAcls", "defaultAction")
    public = arm_read(Kind.VAULT, props, "properties", "publicNetworkAccess")
    if (found := text(action.value)) and same(found, "Deny"):
        return
    if (found := text(public.value)) and same(found, "Disabled"):
        return
    if is_unknown(action.value) or is_unknown(public.value):
        yield Undecided("properties.networkAcls.defaultAction or publicNetworkAccess is unknown")
    else:
        yield Violation(f"properties.networkAcls.defaultAction is {action.value!r}{action.note} "
                        f"and publicNetworkAccess is {public.value!r}{public.note}; the vault is "
                        "reachable from any network.")


def _bypass(props: Any) -> Iterator[Finding]:
    bypass = arm_read(Kind.VAULT, props, "properties", "networkAcls", "bypass")
    if is_unknown(bypass.value):
        yield Undecided("properties.networkAcls.bypass is unknown")
    elif not ((found := text(bypass.value)) and "azureservices" in found.lower()):
        yield Violation(f"properties.networkAcls.bypass is {bypass.value!r}; trusted services "
                        "(AzureServices) must bypass the firewall or no binding reaches the key.")


def _allow_list(props: Any, min_prefix: int) -> Iterator[Finding]:
    rules = get(props, "properties", "networkAcls", "ipRules")
    items = None if is_unknown(rules) else elements(rules)
    for index, rule in enumerate(items or []):
        value = get(rule, "value")
        where = f"properties.networkAcls.ipRules[{index}].value"
        if is_unknown(rule) or is_unknown(value):
            yield Undecided(f"{where} is unknown")
            continue
        try:
            network = ipaddress.ip_network(text(value) or "", strict=False)
        except ValueError:
            yield Violation(f"{where} is {value!r}, not an IPv4 address or CIDR range.")
            continue
        if network.version != 4 or network.prefixlen < min_prefix:
            yield Violation(f"{where} {value!r} allows {network.num_addresses} addresses; "
                            f"ranges wider than /{min_prefix} are not allowed.")
    if is_unknown(rules):
        yield Undecided("properties.networkAcls.ipRules is unknown")


def check(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    yield from _denies_by_default(args.props)
    yield from _bypass(args.props)
    yield from _allow_list(args.props, int(config["minPrefixLength"]))

def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.VAULT}), check)
