"""Vaults live in a region where Key Vault fails over to its paired region.

Advisory: a vault elsewhere works, but when its region is lost the keys (and with them
every bound store) are unavailable until the region returns, because Key Vault has no
paired region to fail over to. The region table and its sources are in
:mod:`policies.key_vault_regions`; ``additionalRegions`` accepts more.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.key_vault_regions import FAILOVER_REGIONS, location_name
from policies.props import get, is_unknown, text
from policies.resource_kinds import Kind

META = RuleMeta(
    name="vault-region-failover",
    description="Key vaults are in a region where Key Vault fails over to a paired region.",
    level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    anchors=(Anchor("Vendor CMK prerequisites", "region-failover",
                    "vaults only in regions where Key Vault supports cross-region failover"),),
    remediation=("Create the vault in a region with an Azure region pair (see "
                 "policies/key_vault_regions.py), or plan recovery with key backups."),
    url="https://learn.microsoft.com/azure/key-vault/general/disaster-recovery-guidance",
    parameters={
        "additionalRegions": {
            "type": "array", "items": {"type": "string"}, "uniqueItems": True, "default": [],
            "description": "More ARM location names to accept (e.g. a newly paired region).",
        },
    },
)


def check(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    accepted = FAILOVER_REGIONS | {location_name(str(r)) for r in config["additionalRegions"]}
    location = get(args.props, "location")
    if is_unknown(location):
        yield Undecided("location is unknown")
    elif (found := text(location)) is None:
        yield Undecided("location is not set (the vault takes its resource group's)")
    elif location_name(found) not in accepted:
        yield Violation(f"location {found!r} has no paired region Key Vault fails over to.")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.VAULT}), check)
