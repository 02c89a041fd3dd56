"""Azure naming rules and known values, checked before anything is sent to ARM."""

from __future__ import annotations

import difflib
import re
import uuid

# Region names as ARM spells them (public, US Government and China clouds).
REGIONS: frozenset[str] = frozenset(
    """
    eastus eastus2 westus westus2 westus3 centralus northcentralus southcentralus westcentralus
    canadacentral canadaeast brazilsouth brazilsoutheast mexicocentral chilecentral
    northeurope westeurope uksouth ukwest francecentral francesouth germanywestcentral
    germanynorth switzerlandnorth switzerlandwest norwayeast norwaywest swedencentral
    swedensouth polandcentral italynorth spaincentral austriaeast belgiumcentral denmarkeast
    eastasia southeastasia japaneast japanwest koreacentral koreasouth centralindia southindia
    westindia jioindiawest jioindiacentral australiaeast australiasoutheast australiacentral
    australiacentral2 newzealandnorth indonesiacentral malaysiawest uaenorth uaecentral
    qatarcentral israelcentral southafricanorth southafricawest
    usgovvirginia usgovarizona usgovtexas usdodcentral usdodeast
    chinaeast chinaeast2 chinaeast3 chinanorth chinanorth2 chinanorth3
    """.split()
)

_VAULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
_OBJECT_NAME = re.compile(r"^[A-Za-z0-9-]{1,127}$")
_RESOURCE_GROUP = re.compile(r"^[-\w._()]{0,89}[-\w_()]$")
_SUBNET_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[^/]+/providers/Microsoft\.Network/"
    r"virtualNetworks/[^/]+/subnets/[^/]+$"
)
_STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_SQL_SERVER = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_GENERIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")


def normalise_region(value: str) -> str:
    """ARM accepts 'West Europe' and 'westeurope'; compare on the short form."""
    return value.replace(" ", "").lower()


def region_problem(value: str) -> str | None:
    if normalise_region(value) in REGIONS:
        return None
    close = difflib.get_close_matches(normalise_region(value), sorted(REGIONS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{value!r} is not an Azure region name{hint}"


def guid_problem(value: str) -> str | None:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return f"{value!r} is not a GUID (expected 8-4-4-4-12 hexadecimal digits)"
    if str(parsed) != value.lower() or parsed.int == 0:
        return f"{value!r} is not a canonical, non-zero GUID"
    return None


def vault_name_problem(value: str) -> str | None:
    if not 3 <= len(value) <= 24:
        return f"{value!r} has {len(value)} characters; a vault name has 3 to 24"
    if not _VAULT_NAME.match(value):
        return (
            f"{value!r} must start with a letter, end with a letter or digit and use only "
            "letters, digits and hyphens"
        )
    if "--" in value:
        return f"{value!r} contains '--', which Key Vault names may not"
    return None


def object_name_problem(value: str, what: str) -> str | None:
    """Key Vault object names (keys, secrets, certificates): 1-127 letters, digits, hyphens."""
    if _OBJECT_NAME.match(value):
        return None
    return f"{value!r} is not a valid {what} name (1-127 letters, digits and hyphens)"


def resource_group_problem(value: str) -> str | None:
    if _RESOURCE_GROUP.match(value):
        return None
    return (
        f"{value!r} is not a valid resource group name (1-90 letters, digits, '-', '_', '.', "
        "'(' or ')', not ending in '.')"
    )


def subnet_id_problem(value: str) -> str | None:
    if _SUBNET_ID.match(value):
        return None
    return (
        f"{value!r} is not a subnet resource id (/subscriptions/<guid>/resourceGroups/<rg>/"
        "providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>)"
    )


def storage_account_problem(value: str) -> str | None:
    if _STORAGE_ACCOUNT.match(value):
        return None
    return f"{value!r} is not a storage account name (3-24 lowercase letters and digits)"


def sql_server_problem(value: str) -> str | None:
    if _SQL_SERVER.match(value):
        return None
    return (
        f"{value!r} is not a SQL server name (1-63 lowercase letters, digits and hyphens, "
        "not starting or ending with a hyphen)"
    )


def generic_name_problem(value: str, what: str) -> str | None:
    if _GENERIC_NAME.match(value):
        return None
    return f"{value!r} is not a valid {what} name (1-80 letters, digits, '-' or '_')"
