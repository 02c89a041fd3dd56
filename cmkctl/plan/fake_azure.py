"""Deterministic, Azure-shaped outputs for the resource types the program creates.

The recorder runs the real program on Pulumi's mock runtime; these functions play the
part of ARM and Microsoft Graph: ids built from the inputs, key URIs with a version,
stable GUIDs for principals. A type not listed here is an error, never an empty answer.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from policies.clouds import PUBLIC, of_arm_environment

Props = dict[str, Any]
Faker = Callable[["Context"], tuple[str, Props]]

_NAMESPACE = uuid.UUID("6f1c1f5e-3d0a-4a43-9c55-2f3b7f0a9e11")


class Context:
    """What a fake needs: the resource's name, inputs and its provider's inputs."""

    def __init__(self, type_: str, name: str, inputs: Props, provider: Mapping[str, Any]) -> None:
        self.type = type_
        self.name = name
        self.inputs = inputs
        self.provider = provider

    def guid(self, purpose: str) -> str:
        """A GUID that is stable for this resource and purpose across runs."""
        return str(uuid.uuid5(_NAMESPACE, f"{self.type}/{self.name}/{purpose}"))

    @property
    def subscription(self) -> str:
        return str(self.provider.get("subscriptionId") or "00000000-0000-0000-0000-000000000000")

    @property
    def tenant(self) -> str:
        return str(self.provider.get("tenantId") or "00000000-0000-0000-0000-000000000000")

    @property
    def vault_suffix(self) -> str:
        """DNS suffix of vaults in the cloud the resource's provider names (``environment``)."""
        cloud = of_arm_environment(str(self.provider.get("environment") or "")) or PUBLIC
        return cloud.vault_suffix

    def arm_id(self, provider_type: str, name_key: str) -> str:
        group = self.inputs["resourceGroupName"]
        return (f"/subscriptions/{self.subscription}/resourceGroups/{group}/providers/"
                f"{provider_type}/{self.inputs.get(name_key) or self.name}")


def key_version(key_id: str) -> str:
    """The 32-hex-digit version Key Vault would give the key's first version."""
    return hashlib.sha256(key_id.encode()).hexdigest()[:32]


def _provider(ctx: Context) -> tuple[str, Props]:
    return ctx.guid("id"), dict(ctx.inputs)


def _resource_group(ctx: Context) -> tuple[str, Props]:
    name = ctx.inputs.get("resourceGroupName") or ctx.name
    rid = f"/subscriptions/{ctx.subscription}/resourceGroups/{name}"
    return rid, {**ctx.inputs, "id": rid, "name": name}


def _vault(ctx: Context) -> tuple[str, Props]:
    rid = ctx.arm_id("Microsoft.KeyVault/vaults", "vaultName")
    name = rid.rsplit("/", 1)[1]
    properties = {**ctx.inputs.get("properties", {}),
                  "vaultUri": f"https://{name}.{ctx.vault_suffix}/"}
    return rid, {**ctx.inputs, "id": rid, "name": name, "properties": properties}


def _key(ctx: Context) -> tuple[str, Props]:
    group = ctx.inputs["resourceGroupName"]
    vault, name = ctx.inputs["vaultName"], ctx.inputs["keyName"]
    rid = (f"/subscriptions/{ctx.subscription}/resourceGroups/{group}/providers/"
           f"Microsoft.KeyVault/vaults/{vault}/keys/{name}")
    uri = f"https://{vault}.{ctx.vault_suffix}/keys/{name}"
    flattened = dict(ctx.inputs.get("properties", {}))
    return rid, {**ctx.inputs, **flattened, "id": rid, "name": name, "keyUri": uri,
                 "keyUriWithVersion": f"{uri}/{key_version(rid)}"}


def _lock(ctx: Context) -> tuple[str, Props]:
    rid = f"{ctx.inputs['scope']}/providers/Microsoft.Authorization/locks/{ctx.inputs['lockName']}"
    return rid, {**ctx.inputs, "id": rid, "name": ctx.inputs["lockName"]}


def _role_assignment(ctx: Context) -> tuple[str, Props]:
    name = ctx.inputs.get("roleAssignmentName") or ctx.guid("name")
    rid = f"{ctx.inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}"
    return rid, {**ctx.inputs, "id": rid, "name": name}


def _service_principal(ctx: Context) -> tuple[str, Props]:
    object_id = ctx.guid("objectId")
    return object_id, {**ctx.inputs, "id": object_id, "objectId": object_id,
                       "applicationTenantId": ctx.guid("applicationTenantId")}


def _application(ctx: Context) -> tuple[str, Props]:
    object_id, client_id = ctx.guid("objectId"), ctx.guid("clientId")
    return f"/applications/{object_id}", {**ctx.inputs, "objectId": object_id,
                                          "clientId": client_id}


def _application_certificate(ctx: Context) -> tuple[str, Props]:
    key_id = ctx.inputs.get("keyId") or ctx.guid("keyId")
    return f"{ctx.inputs['applicationId']}/certificate/{key_id}", {**ctx.inputs, "keyId": key_id}


def _application_password(ctx: Context) -> tuple[str, Props]:
    """Entra generates the value; the provider marks it secret (``additionalSecretOutputs``)."""
    key_id = ctx.guid("keyId")
    value = "fake~" + hashlib.sha256(f"{ctx.name}/{key_id}".encode()).hexdigest()[:34]
    return f"{ctx.inputs['applicationId']}/password/{key_id}", {
        **ctx.inputs, "keyId": key_id, "value": value,
        "startDate": ctx.inputs.get("startDate") or "2026-01-01T00:00:00Z"}


def _secret(ctx: Context) -> tuple[str, Props]:
    """A vault secret; ARM never returns its value, so the outputs hold none."""
    rid = (ctx.arm_id("Microsoft.KeyVault/vaults", "vaultName")
           + f"/secrets/{ctx.inputs['secretName']}")
    vault, name = ctx.inputs["vaultName"], ctx.inputs["secretName"]
    uri = f"https://{vault}.{ctx.vault_suffix}/secrets/{name}"
    properties = {k: v for k, v in (ctx.inputs.get("properties") or {}).items() if k != "value"}
    properties.update(secretUri=uri, secretUriWithVersion=f"{uri}/{key_version(rid)}")
    return rid, {**ctx.inputs, "id": rid, "name": name, "properties": properties}


def _federated_credential(ctx: Context) -> tuple[str, Props]:
    credential = ctx.guid("credentialId")
    return f"{ctx.inputs['applicationId']}/federatedIdentityCredential/{credential}", {
        **ctx.inputs, "credentialId": credential}


def _identity_guid(identity_id: str, purpose: str) -> str:
    """Principal and client ids of a user-assigned identity, derived from its ARM id so the
    identity and every resource it is attached to report the same values."""
    return str(uuid.uuid5(_NAMESPACE, f"{identity_id.lower()}/{purpose}"))


def _identity(ctx: Context) -> tuple[str, Props]:
    rid = ctx.arm_id("Microsoft.ManagedIdentity/userAssignedIdentities", "resourceName")
    return rid, {**ctx.inputs, "id": rid, "name": rid.rsplit("/", 1)[1],
                 "principalId": _identity_guid(rid, "principalId"),
                 "clientId": _identity_guid(rid, "clientId"), "tenantId": ctx.tenant}


def _attached_identities(ctx: Context) -> Props:
    """``identity`` as ARM answers it: the input lists identity ids, the output maps each id
    to its principal and client ids."""
    identity = dict(ctx.inputs.get("identity") or {})
    listed = identity.get("userAssignedIdentities") or []
    identity["userAssignedIdentities"] = {
        rid: {"principalId": _identity_guid(rid, "principalId"),
              "clientId": _identity_guid(rid, "clientId")}
        for rid in listed
    }
    return identity


def _with_identity(provider_type: str, name_key: str) -> Faker:
    """An ARM resource that runs as user-assigned identities (storage, SQL, disk sets)."""
    def fake(ctx: Context) -> tuple[str, Props]:
        rid = ctx.arm_id(provider_type, name_key)
        return rid, {**ctx.inputs, "id": rid, "name": rid.rsplit("/", 1)[1],
                     "identity": _attached_identities(ctx)}
    return fake


def _sql_child(child: str, name_key: str) -> Faker:
    def fake(ctx: Context) -> tuple[str, Props]:
        server = ctx.arm_id("Microsoft.Sql/servers", "serverName")
        name = ctx.inputs.get(name_key) or ctx.name
        rid = f"{server}/{child}/{name}"
        return rid, {**ctx.inputs, "id": rid, "name": name}
    return fake


def _role_definition(ctx: Context) -> tuple[str, Props]:
    name = ctx.inputs.get("roleDefinitionId") or ctx.guid("name")
    rid = f"{ctx.inputs['scope']}/providers/Microsoft.Authorization/roleDefinitions/{name}"
    return rid, {**ctx.inputs, "id": rid, "name": name}


_SNOWFLAKE_FUNCTION = re.compile(r"SYSTEM\$([A-Z_]+)\(([^)]*)\)")


def _snowflake_answer(ctx: Context, statement: str) -> str:
    """A result in the documented shape of the function ``statement`` calls (offline)."""
    found = _SNOWFLAKE_FUNCTION.search(statement)
    function, argument = (found[1], found[2].strip("'")) if found else ("", "")
    if function == "GET_CMK_CONFIG":
        # Shape of Snowflake's documented Azure answer; the app id is a stand-in.
        return (f"Consent url is: https://login.microsoftonline.com/{argument}/oauth2/authorize"
                f"?client_id={ctx.guid('snowflakeApp')}&response_type=code and Snowflake Service "
                "Principal name is: trisec_cmk_azure")
    return f"offline: SYSTEM${function} was not run"


def _execute(ctx: Context) -> tuple[str, Props]:
    """``snowflake.Execute``: the query's one row, as the provider stores ``queryResults``."""
    query = str(ctx.inputs.get("query") or "")
    alias = query.rsplit(" AS ", 1)[1].strip() if " AS " in query else "RESULT"
    rows = [{alias: _snowflake_answer(ctx, query)}] if query else []
    return ctx.guid("id"), {**ctx.inputs, "queryResults": rows}


def _sleep(ctx: Context) -> tuple[str, Props]:
    return "2026-01-01T00:00:00Z", dict(ctx.inputs)


FAKES: Mapping[str, Faker] = {
    "pulumi:providers:azure-native": _provider,
    "pulumi:providers:azuread": _provider,
    "pulumi:providers:time": _provider,
    "pulumi:providers:snowflake": _provider,
    "azure-native:resources:ResourceGroup": _resource_group,
    "azure-native:keyvault:Vault": _vault,
    "azure-native:keyvault:Key": _key,
    "azure-native:authorization:ManagementLockByScope": _lock,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azuread:index/servicePrincipal:ServicePrincipal": _service_principal,
    "azuread:index/application:Application": _application,
    "azuread:index/applicationCertificate:ApplicationCertificate": _application_certificate,
    "azuread:index/applicationPassword:ApplicationPassword": _application_password,
    "azure-native:keyvault:Secret": _secret,
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential":
        _federated_credential,
    "azure-native:managedidentity:UserAssignedIdentity": _identity,
    "azure-native:storage:StorageAccount": _with_identity("Microsoft.Storage/storageAccounts",
                                                          "accountName"),
    "azure-native:sql:Server": _with_identity("Microsoft.Sql/servers", "serverName"),
    "azure-native:sql:ServerKey": _sql_child("keys", "keyName"),
    "azure-native:sql:EncryptionProtector": _sql_child("encryptionProtector",
                                                       "encryptionProtectorName"),
    "azure-native:compute:DiskEncryptionSet": _with_identity("Microsoft.Compute/diskEncryptionSets",
                                                             "diskEncryptionSetName"),
    "time:index/sleep:Sleep": _sleep,
    "azure-native:authorization:RoleDefinition": _role_definition,
    "snowflake:index/execute:Execute": _execute,
}


def _existing_application(args: Mapping[str, Any]) -> Props:
    """``azuread.get_application`` by client id: a multitenant app with a stable object id."""
    client_id = str(args["clientId"])
    object_id = str(uuid.uuid5(_NAMESPACE, f"application/{client_id.lower()}/objectId"))
    return {"id": f"/applications/{object_id}", "objectId": object_id, "clientId": client_id,
            "displayName": "dedicated-cmk-encryption", "signInAudience": "AzureADMultipleOrgs"}


KNOWN_INVOKES: Mapping[str, Callable[[Mapping[str, Any]], Props]] = {
    "azuread:index/getApplication:getApplication": _existing_application,
}
"""Answers to the functions (invokes) the program calls; the recorder refuses any other."""


class UnknownResourceTypeError(Exception):
    """The program created a type the recorder cannot fake; teach ``FAKES`` about it."""


EXISTING_CONFIG = "cmkctl:existing"
"""Stack-file key (outside the project's namespace, so the program never reads it) that
describes, for offline previews only, what Azure would answer for the vault and keys a stack
reads (``vaultExisting``, ``keyExisting``): ``{"vault": {"location": ..., "properties":
{...}}, "keys": {"<name>": {"kty": ..., ...}}}`` in ARM's output shape. A real preview reads
Azure instead. Whatever it leaves out is unknown offline, so the pack cannot pass it."""

_JUDGED_VAULT_PROPERTIES = ("tenantId", "sku", "enableSoftDelete", "enablePurgeProtection",
                            "softDeleteRetentionInDays", "enableRbacAuthorization",
                            "publicNetworkAccess", "networkAcls", "accessPolicies")
_JUDGED_KEY_OUTPUTS = ("kty", "keySize", "keyOps", "attributes", "rotationPolicy",
                       "keyUriWithVersion")
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The engine's sentinel for a value known only after apply (``pulumi preview --json``)."""


def _read_vault(resource_id: str, suffix: str, described: Mapping[str, Any]) -> Props:
    name = resource_id.rsplit("/", 1)[1]
    given = dict(described.get("properties") or {})
    properties = {**dict.fromkeys(_JUDGED_VAULT_PROPERTIES, UNKNOWN), **given,
                  "vaultUri": f"https://{name}.{suffix}/"}
    return {"id": resource_id, "name": name, "location": described.get("location", UNKNOWN),
            "properties": properties}


def _read_key(resource_id: str, suffix: str, described: Mapping[str, Any]) -> Props:
    vault, name = resource_id.split("/")[-3], resource_id.rsplit("/", 1)[1]
    uri = f"https://{vault}.{suffix}/keys/{name}"
    return {**dict.fromkeys(_JUDGED_KEY_OUTPUTS, UNKNOWN), **described, "id": resource_id,
            "name": name, "keyUri": uri}


def read(type_: str, resource_id: str, provider: Mapping[str, Any],
         existing: Mapping[str, Any]) -> tuple[str, Props]:
    """An existing resource the program reads by id (``Resource.get``): a resource group, or
    a vault or key described by ``existing`` (see :data:`EXISTING_CONFIG`)."""
    suffix = Context(type_, "", {}, provider).vault_suffix
    if type_ == "azure-native:resources:ResourceGroup":
        return resource_id, {"id": resource_id, "name": resource_id.rsplit("/", 1)[1]}
    if type_ == "azure-native:keyvault:Vault":
        return resource_id, _read_vault(resource_id, suffix, existing.get("vault") or {})
    if type_ == "azure-native:keyvault:Key":
        keys = existing.get("keys") or {}
        return resource_id, _read_key(resource_id, suffix,
                                      keys.get(resource_id.rsplit("/", 1)[1]) or {})
    raise UnknownResourceTypeError(f"no fake for reading {type_} {resource_id}; add it to "
                                   "cmkctl/plan/fake_azure.py")


def fake(type_: str, name: str, inputs: Props, provider: Mapping[str, Any]) -> tuple[str, Props]:
    try:
        faker = FAKES[type_]
    except KeyError:
        raise UnknownResourceTypeError(f"no fake outputs for {type_} ({name}); add it to "
                                  "cmkctl/fake_azure.py") from None
    return faker(Context(type_, name, inputs, provider))
