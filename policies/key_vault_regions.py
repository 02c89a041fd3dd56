"""Regions where Key Vault fails over to another region: data, with its sources.

The vendor provisions vaults only in regions where Key Vault fails over across regions
(its data-loss table: "Azure Key Vault outage ... regions where cross-region fail over is
not supported"). Key Vault replicates a vault to the region's Azure-defined pair and
routes requests there when the region is lost (Microsoft Learn, "Azure Key Vault
availability and redundancy"); a region without a pair has no such failover, and the same
page names China North and Qatar Central as regions where recovery must be planned by the
customer. The pairs are Microsoft Learn's "Azure region pairs and nonpaired regions"
(reliability/cross-region-replication-azure), whose asymmetric pairs include US Gov Arizona ->
US Gov Texas and US Gov Texas <-> US Gov Virginia; China's pairs (East <-> North, East 2 <->
North 2, East 3 <-> North 3) are docs.azure.cn's "Azure regions list". The US DoD regions'
pairing is not listed there, so they are absent. Names are ARM location names (lower case,
no spaces). Regions opened later without a pair (Poland Central, Israel Central, Italy
North, Spain Central, Mexico Central, New Zealand North and others) are absent on purpose.
"""

from typing import Final

FAILOVER_REGIONS: Final = frozenset({
    # Americas
    "eastus", "westus", "eastus2", "centralus", "northcentralus", "southcentralus",
    "westus2", "westcentralus", "westus3", "canadacentral", "canadaeast", "brazilsouth",
    "brazilsoutheast",
    # Europe
    "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "francesouth",
    "germanywestcentral", "germanynorth", "norwayeast", "norwaywest", "switzerlandnorth",
    "switzerlandwest", "swedencentral", "swedensouth",
    # Asia Pacific, Middle East, Africa
    "eastasia", "southeastasia", "australiaeast", "australiasoutheast", "australiacentral",
    "australiacentral2", "japaneast", "japanwest", "koreacentral", "koreasouth",
    "centralindia", "southindia", "westindia", "jioindiawest", "jioindiacentral",
    "uaenorth", "uaecentral", "southafricanorth", "southafricawest",
    # Sovereign clouds (Azure Government, Azure operated by 21Vianet except China North)
    "usgovvirginia", "usgovtexas", "usgovarizona", "chinaeast", "chinanorth2", "chinaeast2",
    "chinanorth3", "chinaeast3",
})


def location_name(location: str) -> str:
    """ARM's canonical form: ``West Europe`` and ``westeurope`` are the same location."""
    return location.replace(" ", "").lower()
