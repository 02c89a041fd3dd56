"""The Azure clouds a cross-tenant key binding can live in: one table, with its sources.

A cross-tenant binding cannot cross clouds: Microsoft's "Configure an application to trust
a managed identity" says "Accessing resources in *another cloud* is not supported. Token
requests to other clouds will fail." So a stack is in exactly one cloud, and every value
below has to agree with it. Sources (docs/azure-properties.md lists them in full):

- ``arm_environment``: the azure-native provider's ``environment`` ("Possible values are
  public, usgovernment, and china. Defaults to public", ``help(pulumi_azure_native.Provider)``).
- ``graph_environment`` and ``graph_aliases``: the azuread provider's ``environment``
  ("``global`` (also ``public``), ``usgovernmentl4`` (also ``usgovernment``),
  ``usgovernmentl5`` (also ``dod``), and ``china``. Defaults to ``global``").
- ``login_host`` (the token issuer) and ``audience``: Microsoft Entra workload identity
  docs (MicrosoftDocs/entra-docs ``workload-identity-federation-config-app-trust-managed-
  identity.md``; the issuer of China from docs.azure.cn's copy of that page:
  ``https://login.partner.microsoftonline.cn/{tenant}/v2.0``).
- ``authority_host``: azure-identity's ``AzureAuthorityHosts``.
- ``vault_suffix``, ``managed_hsm_suffix``, ``arm_endpoint``: "Compare Azure Government and
  global Azure" (Key Vault ``*.vault.usgovcloudapi.net``), the Azure PowerShell/CLI cloud
  definitions (``AzureKeyVaultDnsSuffix``, ``ResourceManagerUrl``).
- ``regions``: ARM location names of "Azure Government" and "Azure operated by 21Vianet"
  (docs.azure.cn reliability/regions-list); every other location is the public cloud.
- ``cross_tenant_services``: services whose cross-tenant CMK Microsoft documents in that cloud
  (public: all four; Government: storage, SQL and disk by Microsoft's rule that "service
  availability in Azure Government implies that all corresponding service features are
  available" unless listed as a variation; China: storage and SQL, whose cross-tenant pages
  docs.azure.cn publishes). Snowflake Tri-Secret Secure is documented for the public cloud
  only. What is not documented is refused, never assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Cloud:
    """One Azure cloud and the values a stack in it must use."""

    name: str
    """The stack key's value: ``public``, ``usgovernment`` or ``china``."""
    title: str
    arm_environment: str
    """azure-native provider ``environment``."""
    graph_environment: str
    """azuread provider ``environment`` (the value this project sends)."""
    graph_aliases: frozenset[str]
    """Every azuread ``environment`` spelling that means this cloud."""
    login_host: str
    """Host of the token issuer ``https://<host>/<tenant>/v2.0`` of a managed identity."""
    authority_host: str
    """Entra authority host a credential signs in at (azure-identity)."""
    audience: str
    """The only audience of a managed identity used as a federated credential."""
    vault_suffix: str
    managed_hsm_suffix: str
    arm_endpoint: str
    regions: frozenset[str]
    """ARM location names; empty for public, which is every location of no other cloud."""
    cross_tenant_services: frozenset[str]
    """Services (``storage``, ``sql``, ``disk``, ``snowflake``) with documented cross-tenant CMK."""

    def issuer(self, tenant_id: str) -> str:
        return f"https://{self.login_host}/{tenant_id}/v2.0"


PUBLIC: Final = Cloud(
    name="public", title="Azure public cloud", arm_environment="public",
    graph_environment="public", graph_aliases=frozenset({"global", "public"}),
    login_host="login.microsoftonline.com", authority_host="login.microsoftonline.com",
    audience="api://AzureADTokenExchange", vault_suffix="vault.azure.net",
    managed_hsm_suffix="managedhsm.azure.net", arm_endpoint="https://management.azure.com",
    regions=frozenset(), cross_tenant_services=frozenset({"storage", "sql", "disk", "snowflake"}),
)
US_GOVERNMENT: Final = Cloud(
    name="usgovernment", title="Azure Government", arm_environment="usgovernment",
    graph_environment="usgovernment",
    graph_aliases=frozenset({"usgovernment", "usgovernmentl4", "usgovernmentl5", "dod"}),
    login_host="login.microsoftonline.us", authority_host="login.microsoftonline.us",
    audience="api://AzureADTokenExchangeUSGov", vault_suffix="vault.usgovcloudapi.net",
    managed_hsm_suffix="managedhsm.usgovcloudapi.net",
    arm_endpoint="https://management.usgovcloudapi.net",
    regions=frozenset({"usgovvirginia", "usgovarizona", "usgovtexas", "usdodcentral",
                       "usdodeast"}),
    cross_tenant_services=frozenset({"storage", "sql", "disk"}),
)
CHINA: Final = Cloud(
    name="china", title="Azure operated by 21Vianet (China)", arm_environment="china",
    graph_environment="china", graph_aliases=frozenset({"china"}),
    login_host="login.partner.microsoftonline.cn", authority_host="login.chinacloudapi.cn",
    audience="api://AzureADTokenExchangeChina", vault_suffix="vault.azure.cn",
    managed_hsm_suffix="managedhsm.azure.cn", arm_endpoint="https://management.chinacloudapi.cn",
    regions=frozenset({"chinaeast", "chinaeast2", "chinaeast3", "chinanorth", "chinanorth2",
                       "chinanorth3"}),
    cross_tenant_services=frozenset({"storage", "sql"}),
)

CLOUDS: Final = {cloud.name: cloud for cloud in (PUBLIC, US_GOVERNMENT, CHINA)}
"""Every cloud by its stack-key name."""

_ISSUER: Final = re.compile(
    r"^https://(?P<host>[a-z0-9.-]+)/(?P<tenant>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{4}-[0-9a-f]{12})/v2\.0$", re.IGNORECASE)
_KEY_VAULT_HOST: Final = re.compile(r"^https://[^./]+\.(?P<suffix>[^/:]+)", re.IGNORECASE)


def of_arm_environment(value: str | None) -> Cloud | None:
    """The cloud an azure-native ``environment`` names; unset is the provider default."""
    if value is None or value == "":
        return PUBLIC
    return next((c for c in CLOUDS.values() if c.arm_environment == value.lower()), None)


def of_graph_environment(value: str | None) -> Cloud | None:
    """The cloud an azuread ``environment`` names; unset is the provider default."""
    if value is None or value == "":
        return PUBLIC
    return next((c for c in CLOUDS.values() if value.lower() in c.graph_aliases), None)


def of_region(location: str) -> Cloud:
    """The cloud of an ARM location (``West Europe`` and ``westeurope`` alike)."""
    name = location.replace(" ", "").lower()
    return next((c for c in CLOUDS.values() if name in c.regions), PUBLIC)


def issuer_parts(issuer: str) -> tuple[Cloud, str] | None:
    """(cloud, tenant) of a managed-identity issuer URL of a known cloud, else None."""
    match = _ISSUER.match(issuer)
    if match is None:
        return None
    host = match["host"].lower()
    cloud = next((c for c in CLOUDS.values() if c.login_host == host), None)
    return (cloud, match["tenant"].lower()) if cloud else None


def of_key_vault_url(url: str) -> Cloud | None:
    """The cloud of a vault, key or managed-HSM URL, by DNS suffix; None for any other host."""
    match = _KEY_VAULT_HOST.match(url)
    if match is None:
        return None
    suffix = match["suffix"].lower()
    return next((c for c in CLOUDS.values()
                 if suffix in (c.vault_suffix, c.managed_hsm_suffix)), None)


def audiences() -> frozenset[str]:
    """Every cloud's token-exchange audience."""
    return frozenset(c.audience for c in CLOUDS.values())
