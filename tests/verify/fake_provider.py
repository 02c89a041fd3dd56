"""Provider-side resources as Resource Manager returns them, for the loopback fake.

Each builder returns ``{lower-case ARM id: body}`` shaped as Microsoft's examples in
Azure/azure-rest-api-specs show them (the fake answers a GET of that id with the body):
- storage: specification/storage/resource-manager/Microsoft.Storage/stable/2024-01-01/examples/
  StorageAccountCreateUserAssignedIdentityWithFederatedIdentityClientId.json (the 200 body:
  lower-case ``keyvaultproperties`` keys, ``encryption.identity``);
- SQL: specification/sql/resource-manager/Microsoft.Sql/stable/2023-08-01/examples/ServerGet.json,
  EncryptionProtectorGet.json, ServerKeyGet.json (server key ``<vault>_<key>_<version>``, the
  protector named ``current``, ``autoRotationEnabled``);
- disk encryption set: specification/compute/resource-manager/Microsoft.Compute/DiskRP/stable/
  2024-03-02/examples/diskEncryptionSetExamples/DiskEncryptionSet_Create_WithKeyVaultFromA
  DifferentTenant.json and DiskEncryptionSet_Get_WithAutoKeyRotationError.json;
- identity: specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/
  examples/IdentityGet.json.
"""

from __future__ import annotations

import time
from typing import Any

PROVIDER_SUBSCRIPTION = "3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a"
PROVIDER_GROUP = "rg-saas-contoso-prod"
APP_CLIENT_ID = "f83c6b1b-4d34-47e4-bb34-9d83df58b540"
IDENTITY_NAME = "id-contoso-cmk-prod"
IDENTITY_ID = (f"/subscriptions/{PROVIDER_SUBSCRIPTION}/resourceGroups/{PROVIDER_GROUP}/providers/"
               f"Microsoft.ManagedIdentity/userAssignedIdentities/{IDENTITY_NAME}")
IDENTITY_CLIENT_ID = "fbaa6278-1ecc-415c-819f-6e2058d3acb5"


def _group(kind: str, name: str, group: str = PROVIDER_GROUP) -> str:
    return (f"/subscriptions/{PROVIDER_SUBSCRIPTION}/resourceGroups/{group}/providers/"
            f"{kind}/{name}")


def iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(epoch))


def identity(name: str = IDENTITY_NAME, group: str = PROVIDER_GROUP) -> dict[str, Any]:
    resource = _group("Microsoft.ManagedIdentity/userAssignedIdentities", name, group)
    return {resource.lower(): {
        "id": resource, "name": name, "location": "westeurope",
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "properties": {"tenantId": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                       "principalId": "8d823284-1060-42a5-9ec4-ed3d831e24d7",
                       "clientId": IDENTITY_CLIENT_ID}}}


def storage_account(name: str, vault_url: str, key: str, *, pinned: str | None = None,
                    current: str, rotated: int | None = None, identity_id: str = IDENTITY_ID,
                    app_client_id: str = APP_CLIENT_ID,
                    group: str = PROVIDER_GROUP) -> dict[str, Any]:
    """An account on the customer's key; ``pinned`` is ``keyversion`` (None: follows)."""
    resource = _group("Microsoft.Storage/storageAccounts", name, group)
    vault_properties: dict[str, Any] = {
        "keyvaulturi": vault_url, "keyname": key, "keyversion": pinned or "",
        "currentVersionedKeyIdentifier": f"{vault_url}/keys/{key}/{current}"}
    if rotated is not None:
        vault_properties["lastKeyRotationTimestamp"] = iso(rotated)
    return {resource.lower(): {
        "id": resource, "name": name, "type": "Microsoft.Storage/storageAccounts",
        "location": "westeurope", "kind": "StorageV2",
        "sku": {"name": "Standard_ZRS", "tier": "Standard"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {
            "principalId": "8d823284-1060-42a5-9ec4-ed3d831e24d7",
            "clientId": IDENTITY_CLIENT_ID}}},
        "properties": {"provisioningState": "Succeeded", "encryption": {
            "identity": {"userAssignedIdentity": identity_id,
                         "federatedIdentityClientId": app_client_id},
            "keyvaultproperties": vault_properties,
            "services": {"blob": {"keyType": "Account", "enabled": True},
                         "file": {"keyType": "Account", "enabled": True}},
            "keySource": "Microsoft.Keyvault"}}}}


def sql_server(name: str, vault: str, key: str, version: str, *, created: int,
               auto_rotation: bool = True, identity_id: str = IDENTITY_ID,
               app_client_id: str = APP_CLIENT_ID,
               inaccessible: tuple[str, ...] = (), group: str = PROVIDER_GROUP) -> dict[str, Any]:
    """A server whose ``current`` protector is the server key of ``version``."""
    server = _group("Microsoft.Sql/servers", name, group)
    server_key = f"{vault}_{key}_{version}"
    uri = f"https://{vault}.vault.azure.net/keys/{key}/{version}"
    databases = [{"id": f"{server}/databases/{db}", "name": db,
                  "type": "Microsoft.Sql/servers/databases", "location": "westeurope",
                  "properties": {"status": "Inaccessible" if db in inaccessible else "Online"}}
                 for db in ("orders", *inaccessible) if db]
    return {
        server.lower(): {
            "id": server, "name": name, "type": "Microsoft.Sql/servers", "location": "westeurope",
            "kind": "v12.0",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
            "properties": {"fullyQualifiedDomainName": f"{name}.database.windows.net",
                           "version": "12.0", "state": "Ready",
                           "primaryUserAssignedIdentityId": identity_id,
                           "federatedClientId": app_client_id, "keyId": uri}},
        f"{server}/encryptionProtector/current".lower(): {
            "id": f"{server}/encryptionProtector/current", "name": "current",
            "type": "Microsoft.Sql/servers/encryptionProtector", "location": "westeurope",
            "kind": "azurekeyvault",
            "properties": {"serverKeyName": server_key, "serverKeyType": "AzureKeyVault",
                           "uri": uri, "autoRotationEnabled": auto_rotation}},
        f"{server}/keys/{server_key}".lower(): {
            "id": f"{server}/keys/{server_key}", "name": server_key,
            "type": "Microsoft.Sql/servers/keys", "location": "westeurope",
            "kind": "azurekeyvault",
            "properties": {"serverKeyType": "AzureKeyVault", "uri": uri,
                           "thumbprint": "00112233445566778899AABBCCDDEEFFAABBCCDD",
                           "creationDate": iso(created), "autoRotationEnabled": auto_rotation}},
        f"{server}/databases".lower(): {"value": databases},
    }


def disk_encryption_set(name: str, vault: str, key: str, version: str, *,
                        rotated: int | None = None, follows: bool = True,
                        identity_id: str = IDENTITY_ID, app_client_id: str = APP_CLIENT_ID,
                        rotation_error: str | None = None,
                        group: str = PROVIDER_GROUP) -> dict[str, Any]:
    resource = _group("Microsoft.Compute/diskEncryptionSets", name, group)
    properties: dict[str, Any] = {
        "activeKey": {"keyUrl": f"https://{vault}.vault.azure.net/keys/{key}/{version}"},
        "encryptionType": "EncryptionAtRestWithCustomerKey",
        "federatedClientId": app_client_id, "previousKeys": [],
        "rotationToLatestKeyVersionEnabled": follows, "provisioningState": "Succeeded"}
    if rotated is not None:
        properties["lastKeyRotationTimestamp"] = iso(rotated)
    if rotation_error:
        properties["autoKeyRotationError"] = {"code": "ManagedServiceIdentityNotFound",
                                              "message": rotation_error}
    return {resource.lower(): {
        "id": resource, "name": name, "location": "westeurope",
        "type": "Microsoft.Compute/diskEncryptionSets",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
        "properties": properties}}


def consumer_id(kind: str, name: str, group: str = PROVIDER_GROUP) -> str:
    return _group(kind, name, group)


STORAGE = consumer_id("Microsoft.Storage/storageAccounts", "stcontoso")
SQL = consumer_id("Microsoft.Sql/servers", "sql-contoso")
DISK = consumer_id("Microsoft.Compute/diskEncryptionSets", "des-contoso")
"""The provider's stores the tests stage, by ARM id."""
