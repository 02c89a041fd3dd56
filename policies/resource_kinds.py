"""One table from engine type tokens to the kinds of resource the rules speak of.

A rule never matches a token string: the same Azure resource has many spellings. The
azure-native provider publishes every API version as its own module
(``azure-native:keyvault/v20230701:Vault``, also ``/v20240401preview``; v1 had ``/latest``,
and its predecessor was ``azure-nextgen``), locks exist as four resources (by scope, at
resource, resource-group and subscription level), and the classic ``azure`` provider
(Terraform azurerm) spells everything differently with other property shapes.

:func:`kind_of` answers what a token *is* (the destructive-change classifier needs that for
every spelling); :func:`checked_kind` answers which kind the rules may evaluate with the
azure-native / azuread property shapes. A known kind that is not checked (classic
``azure`` resources) is reported as "not checked by this pack", never passed silently.

Sources: the token lists and aliases of the installed SDKs (``pulumi_azure_native`` 3.x
resource aliases list every versioned token; ``pulumi_azuread`` 6.x module files), and the
classic provider's import docs (``pulumi import azure:keyvault/keyVault:KeyVault ...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final


class Kind(StrEnum):
    """What a resource is, whatever its provider or API version."""

    RESOURCE_GROUP = "resource group"
    VAULT = "key vault"
    KEY = "key"
    ACCESS_POLICY = "access policy"
    LOCK = "management lock"
    ROLE_ASSIGNMENT = "role assignment"
    ROLE_DEFINITION = "role definition"
    USER_ASSIGNED_IDENTITY = "user-assigned identity"
    IDENTITY_FEDERATED_CREDENTIAL = "federated credential on a managed identity"
    FEDERATED_CREDENTIAL = "federated credential on an application"
    APPLICATION = "application"
    APPLICATION_PASSWORD = "application password"
    APPLICATION_CERTIFICATE = "application certificate"
    SERVICE_PRINCIPAL = "service principal"
    SERVICE_PRINCIPAL_PASSWORD = "service principal password"
    SERVICE_PRINCIPAL_CERTIFICATE = "service principal certificate"
    STORAGE_ACCOUNT = "storage account"
    STORAGE_CUSTOMER_MANAGED_KEY = "storage customer-managed key"
    SQL_SERVER = "SQL server"
    SQL_SERVER_KEY = "SQL server key"
    SQL_ENCRYPTION_PROTECTOR = "SQL encryption protector"
    SQL_MANAGED_INSTANCE = "SQL managed instance"
    SQL_MANAGED_INSTANCE_KEY = "SQL managed instance key"
    SQL_MANAGED_INSTANCE_ENCRYPTION_PROTECTOR = "SQL managed instance encryption protector"
    DISK_ENCRYPTION_SET = "disk encryption set"
    SNOWFLAKE_EXECUTE = "Snowflake statement"


@dataclass(frozen=True)
class Spelling:
    """How one token spells a kind."""

    kind: Kind
    provider: str
    """``azure-native``, ``azure-nextgen``, ``azuread``, ``azure`` or ``snowflake``."""
    checked: bool
    """Whether the pack's rules understand this spelling's properties."""


_NATIVE: Final[dict[tuple[str, str], Kind]] = {
    ("resources", "ResourceGroup"): Kind.RESOURCE_GROUP,
    ("keyvault", "Vault"): Kind.VAULT,
    ("keyvault", "Key"): Kind.KEY,
    ("keyvault", "AccessPolicy"): Kind.ACCESS_POLICY,
    ("authorization", "ManagementLockByScope"): Kind.LOCK,
    ("authorization", "ManagementLockAtResourceLevel"): Kind.LOCK,
    ("authorization", "ManagementLockAtResourceGroupLevel"): Kind.LOCK,
    ("authorization", "ManagementLockAtSubscriptionLevel"): Kind.LOCK,
    ("authorization", "RoleAssignment"): Kind.ROLE_ASSIGNMENT,
    ("authorization", "RoleDefinition"): Kind.ROLE_DEFINITION,
    ("managedidentity", "UserAssignedIdentity"): Kind.USER_ASSIGNED_IDENTITY,
    ("managedidentity", "FederatedIdentityCredential"): Kind.IDENTITY_FEDERATED_CREDENTIAL,
    ("storage", "StorageAccount"): Kind.STORAGE_ACCOUNT,
    ("sql", "Server"): Kind.SQL_SERVER,
    ("sql", "ServerKey"): Kind.SQL_SERVER_KEY,
    ("sql", "EncryptionProtector"): Kind.SQL_ENCRYPTION_PROTECTOR,
    ("sql", "ManagedInstance"): Kind.SQL_MANAGED_INSTANCE,
    ("sql", "ManagedInstanceKey"): Kind.SQL_MANAGED_INSTANCE_KEY,
    ("sql", "ManagedInstanceEncryptionProtector"): Kind.SQL_MANAGED_INSTANCE_ENCRYPTION_PROTECTOR,
    ("compute", "DiskEncryptionSet"): Kind.DISK_ENCRYPTION_SET,
}
"""azure-native (module, type) pairs; any API-version module spells the same kind."""

_NATIVE_UNCHECKED: Final = frozenset({
    Kind.SQL_MANAGED_INSTANCE, Kind.SQL_MANAGED_INSTANCE_KEY,
    Kind.SQL_MANAGED_INSTANCE_ENCRYPTION_PROTECTOR,
})
"""azure-native kinds the rules do not evaluate (named so deletions of them are still seen)."""

_EXACT: Final[dict[str, tuple[Kind, bool]]] = {
    # azuread v5/v6: the application has three resource spellings.
    "azuread:index/application:Application": (Kind.APPLICATION, True),
    "azuread:index/applicationRegistration:ApplicationRegistration": (Kind.APPLICATION, True),
    "azuread:index/applicationFromTemplate:ApplicationFromTemplate": (Kind.APPLICATION, True),
    "azuread:index/applicationPassword:ApplicationPassword": (Kind.APPLICATION_PASSWORD, True),
    "azuread:index/applicationCertificate:ApplicationCertificate":
        (Kind.APPLICATION_CERTIFICATE, True),
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential":
        (Kind.FEDERATED_CREDENTIAL, True),
    "azuread:index/applicationFlexibleFederatedIdentityCredential:"
    "ApplicationFlexibleFederatedIdentityCredential": (Kind.FEDERATED_CREDENTIAL, True),
    "azuread:index/servicePrincipal:ServicePrincipal": (Kind.SERVICE_PRINCIPAL, True),
    "azuread:index/servicePrincipalPassword:ServicePrincipalPassword":
        (Kind.SERVICE_PRINCIPAL_PASSWORD, True),
    "azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate":
        (Kind.SERVICE_PRINCIPAL_CERTIFICATE, True),
    "azuread:index/servicePrincipalTokenSigningCertificate:ServicePrincipalTokenSigningCertificate":
        (Kind.SERVICE_PRINCIPAL_CERTIFICATE, True),
    "snowflake:index/execute:Execute": (Kind.SNOWFLAKE_EXECUTE, True),
    # The classic provider (Terraform azurerm): other property shapes, not evaluated.
    "azure:core/resourceGroup:ResourceGroup": (Kind.RESOURCE_GROUP, False),
    "azure:keyvault/keyVault:KeyVault": (Kind.VAULT, False),
    "azure:keyvault/key:Key": (Kind.KEY, False),
    "azure:keyvault/accessPolicy:AccessPolicy": (Kind.ACCESS_POLICY, False),
    "azure:management/lock:Lock": (Kind.LOCK, False),
    "azure:authorization/assignment:Assignment": (Kind.ROLE_ASSIGNMENT, False),
    "azure:authorization/userAssignedIdentity:UserAssignedIdentity":
        (Kind.USER_ASSIGNED_IDENTITY, False),
    "azure:armmsi/federatedIdentityCredential:FederatedIdentityCredential":
        (Kind.IDENTITY_FEDERATED_CREDENTIAL, False),
    "azure:storage/account:Account": (Kind.STORAGE_ACCOUNT, False),
    "azure:storage/customerManagedKey:CustomerManagedKey":
        (Kind.STORAGE_CUSTOMER_MANAGED_KEY, False),
    "azure:mssql/server:Server": (Kind.SQL_SERVER, False),
    "azure:sql/sqlServer:SqlServer": (Kind.SQL_SERVER, False),
    "azure:mssql/serverTransparentDataEncryption:ServerTransparentDataEncryption":
        (Kind.SQL_ENCRYPTION_PROTECTOR, False),
    "azure:mssql/managedInstance:ManagedInstance": (Kind.SQL_MANAGED_INSTANCE, False),
    "azure:mssql/managedInstanceTransparentDataEncryption:"
    "ManagedInstanceTransparentDataEncryption": (Kind.SQL_MANAGED_INSTANCE_ENCRYPTION_PROTECTOR,
                                                 False),
    "azure:compute/diskEncryptionSet:DiskEncryptionSet": (Kind.DISK_ENCRYPTION_SET, False),
}
"""Tokens spelled one way only (azuread, snowflake, classic azure)."""

_NATIVE_TOKEN: Final = re.compile(
    r"^(?P<provider>azure-native|azure-nextgen):(?P<module>[A-Za-z0-9]+)"
    r"(?:/(?:v\d{8}[a-z]*|latest))?:(?P<type>[A-Za-z0-9]+)$")
"""``azure-native:<module>[/v<yyyymmdd>[preview]|/latest]:<Type>``."""


@lru_cache(maxsize=1024)
def spelling_of(type_token: str) -> Spelling | None:
    """The kind a token spells, its provider and whether the rules check it; ``None`` if the
    token is none of the kinds the pack speaks of. Remembered: every rule asks it of every
    resource (about 3,000 times a stack), of a few dozen distinct tokens."""
    if found := _EXACT.get(type_token):
        return Spelling(found[0], type_token.split(":", 1)[0], found[1])
    match = _NATIVE_TOKEN.match(type_token)
    if match is None:
        return None
    kind = _NATIVE.get((match["module"].lower(), match["type"]))
    if kind is None:
        return None
    return Spelling(kind, match["provider"], kind not in _NATIVE_UNCHECKED)


def kind_of(type_token: str) -> Kind | None:
    """What a resource of ``type_token`` is, checked by the rules or not."""
    found = spelling_of(type_token)
    return found.kind if found else None


def checked_kind(type_token: str) -> Kind | None:
    """The kind the rules evaluate a resource of ``type_token`` as; ``None`` if they do not."""
    found = spelling_of(type_token)
    return found.kind if found and found.checked else None


def is_unchecked(type_token: str) -> bool:
    """A known kind the pack cannot evaluate (reported as "not checked by this pack")."""
    found = spelling_of(type_token)
    return bool(found and not found.checked)
