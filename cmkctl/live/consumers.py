"""The provider's stores as deployed: which key each uses, as whom, and which version now.

One reader per service, through the official management SDKs, each returning a
:class:`Binding` in the same shape so verify, ``key status`` and the disable guard judge
them alike. Where each fact lives (Microsoft's REST specs and their examples):
- storage account: ``encryption.keySource``, ``keyvaultproperties {keyvaulturi, keyname,
  keyversion, currentVersionedKeyIdentifier, lastKeyRotationTimestamp}``, ``encryption.identity
  {userAssignedIdentity, federatedIdentityClientId}`` (Storage 2024-01-01,
  StorageAccountCreateUserAssignedIdentityWithFederatedIdentityClientId.json);
- SQL server: ``primaryUserAssignedIdentityId``, ``federatedClientId``; the protector
  ``encryptionProtector/current {serverKeyName, serverKeyType, uri, autoRotationEnabled}``
  and its server key's ``creationDate`` (Sql 2023-08-01, EncryptionProtectorGet.json,
  ServerKeyGet.json); databases report ``status: Inaccessible`` when the key is out of reach;
- disk encryption set: ``activeKey.keyUrl``, ``federatedClientId``, ``encryptionType``,
  ``rotationToLatestKeyVersionEnabled``, ``lastKeyRotationTimestamp``, ``autoKeyRotationError``
  (DiskRP 2024-03-02, DiskEncryptionSet_Get_WithAutoKeyRotationError.json).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmkctl.live.azure import Azure, explain
from cmkctl.live.target import TargetError
from cmkctl.live.verify_vault import wire
from components.config.key_uri import KeyUri, parse_key_uri

SERVICE_TYPES = {"microsoft.storage/storageaccounts": "storage",
                 "microsoft.sql/servers": "sql",
                 "microsoft.compute/diskencryptionsets": "disk"}
"""ARM resource types that consume the customer's key, by the service name the stack uses."""
CUSTOMER_KEY_TYPES = ("EncryptionAtRestWithCustomerKey",
                      "EncryptionAtRestWithPlatformAndCustomerKeys")
_ID = re.compile(r"^/subscriptions/(?P<sub>[0-9a-fA-F-]{36})/resourceGroups/(?P<group>[^/]+)/"
                 r"providers/(?P<type>[^/]+/[^/]+)/(?P<name>[^/]+)/?$", re.IGNORECASE)


@dataclass(frozen=True)
class ConsumerRef:
    """A store that encrypts with the customer's key, by its ARM coordinates."""

    service: str
    """``storage``, ``sql`` or ``disk``."""
    subscription: str
    resource_group: str
    name: str

    @property
    def id(self) -> str:
        kind = next(t for t, s in SERVICE_TYPES.items() if s == self.service)
        namespace, resource = kind.split("/")
        pretty = {"microsoft.storage": "Microsoft.Storage", "microsoft.sql": "Microsoft.Sql",
                  "microsoft.compute": "Microsoft.Compute"}[namespace]
        plural = {"storageaccounts": "storageAccounts", "servers": "servers",
                  "diskencryptionsets": "diskEncryptionSets"}[resource]
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/{pretty}/{plural}/{self.name}")

    @property
    def label(self) -> str:
        return f"{self.service}:{self.name}"


def parse_consumer_id(value: str) -> ConsumerRef:
    match = _ID.match(value.strip())
    service = SERVICE_TYPES.get(match["type"].lower()) if match else None
    if match is None or service is None:
        raise TargetError(
            f"--consumer {value!r} is not the ARM id of a storage account, SQL server or disk "
            "encryption set; expected /subscriptions/<guid>/resourceGroups/<group>/providers/"
            "Microsoft.Storage/storageAccounts/<name> (or Microsoft.Sql/servers/<name>, "
            "Microsoft.Compute/diskEncryptionSets/<name>)")
    return ConsumerRef(service, match["sub"].lower(), match["group"], match["name"])


def parse_identity_id(value: str) -> str:
    """``--identity-id``: the ARM id of a user-assigned identity, lower case."""
    match = _ID.match(value.strip())
    if match is None or match["type"].lower() != "microsoft.managedidentity/userassignedidentities":
        raise TargetError(
            f"--identity-id {value!r} is not the ARM id of a user-assigned identity; expected "
            "/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/"
            "userAssignedIdentities/<name>")
    return value.strip().lower()


@dataclass(frozen=True)
class Binding:
    """What one store's encryption looks like in Azure right now (identifiers only)."""

    ref: ConsumerRef
    customer_key: bool
    """Encrypts with a Key Vault key at all (not platform-managed keys)."""
    key: KeyUri | None
    """The key it is bound to; ``version`` None when it follows the latest version."""
    in_use: str | None
    """The key version the service uses now."""
    since: datetime | None
    """When it moved to that version (None: the service does not say, or never rotated)."""
    follows_latest: bool
    identities: tuple[str, ...]
    """User-assigned identities attached to the resource (ARM ids, lower case)."""
    encryption_identity: str | None
    """The identity it reaches the key as (lower case)."""
    federated_client_id: str | None
    problem: str | None
    """Key access trouble the service itself reports; None when it reports none."""


def same_key(a: KeyUri | None, b: KeyUri) -> bool:
    """Same vault and key name (versions aside); Azure compares both case-insensitively."""
    return a is not None and (a.vault.lower(), a.name.lower()) == (b.vault.lower(), b.name.lower())


def read_using(azure: Azure, refs: list[ConsumerRef],
               key: KeyUri) -> tuple[list[Binding], list[str]]:
    """The stores among ``refs`` that encrypt with ``key`` as deployed, and the labels (with the
    reason) of those that could not be read."""
    from azure.core.exceptions import AzureError  # noqa: PLC0415

    found, unread = [], []
    for ref in refs:
        try:
            binding = read(azure, ref)
        except AzureError as error:
            failure = explain(error, f"reading {ref.label}", key.vault)
            unread.append(f"{ref.label} ({failure.reason})")
            continue
        if binding.customer_key and same_key(binding.key, key):
            found.append(binding)
    return found, unread


def read(azure: Azure, ref: ConsumerRef) -> Binding:
    """The binding as deployed; AzureError propagates (the caller explains it)."""
    return {"storage": _storage, "sql": _sql, "disk": _disk}[ref.service](azure, ref)


def _key(vault_uri: str | None, name: str | None, version: str | None) -> KeyUri | None:
    if not vault_uri or not name:
        return None
    suffix = f"/{version}" if version else ""
    return parse_key_uri(f"{vault_uri.rstrip('/')}/keys/{name}{suffix}")


def _identities(identity: Any) -> tuple[str, ...]:
    attached = getattr(identity, "user_assigned_identities", None) or {}
    return tuple(sorted(str(i).lower() for i in attached))


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _storage(azure: Azure, ref: ConsumerRef) -> Binding:
    with azure.storage(ref.subscription) as client:
        account = client.storage_accounts.get_properties(ref.resource_group, ref.name)
    encryption = account.properties.encryption if account.properties else None
    vault = encryption.key_vault_properties if encryption else None
    who = encryption.encryption_identity if encryption else None
    current = parse_key_uri(vault.current_versioned_key_identifier or "") if vault else None
    return Binding(
        ref,
        customer_key=wire(encryption.key_source) == "Microsoft.Keyvault" if encryption else False,
        key=_key(vault.key_vault_uri, vault.key_name, vault.key_version) if vault else None,
        in_use=current.version if current else None,
        since=vault.last_key_rotation_timestamp if vault else None,
        follows_latest=not (vault and vault.key_version), identities=_identities(account.identity),
        encryption_identity=_lower(who.encryption_user_assigned_identity if who else None),
        federated_client_id=_lower(who.encryption_federated_identity_client_id if who else None),
        problem=None)


def _sql(azure: Azure, ref: ConsumerRef) -> Binding:
    with azure.sql(ref.subscription) as client:
        server = client.servers.get(ref.resource_group, ref.name)
        protector = client.encryption_protectors.get(ref.resource_group, ref.name, "current")
        props = protector.properties
        customer_key = props is not None and wire(props.server_key_type) == "AzureKeyVault"
        since = None
        if props is not None and customer_key and props.server_key_name:
            server_key = client.server_keys.get(ref.resource_group, ref.name,
                                                props.server_key_name)
            since = server_key.properties.creation_date if server_key.properties else None
        lost = sorted(str(d.name) for d in client.databases.list_by_server(ref.resource_group,
                                                                          ref.name)
                      if d.properties is not None and wire(d.properties.status) == "Inaccessible")
    key = parse_key_uri(props.uri or "") if props is not None and customer_key else None
    follows = bool(props.auto_rotation_enabled) if props is not None else False
    settings = server.properties
    return Binding(
        ref, customer_key, key=KeyUri(key.vault, key.suffix, key.name, None) if key and follows
        else key, in_use=key.version if key else None, since=since, follows_latest=follows,
        identities=_identities(server.identity),
        encryption_identity=_lower(settings.primary_user_assigned_identity_id if settings
                                   else None),
        federated_client_id=_lower(settings.federated_client_id if settings else None),
        problem=(f"databases {', '.join(lost)} report status Inaccessible (the server cannot "
                 "reach its TDE protector)") if lost else None)


def _disk(azure: Azure, ref: ConsumerRef) -> Binding:
    with azure.compute(ref.subscription) as client:
        encryption_set = client.disk_encryption_sets.get(ref.resource_group, ref.name)
    props = encryption_set.properties
    identities = _identities(encryption_set.identity)
    if props is None:
        return Binding(ref, False, None, None, None, False, identities, None, None, None)
    active = parse_key_uri(props.active_key.key_url or "") if props.active_key else None
    follows = bool(props.rotation_to_latest_key_version_enabled)
    error = props.auto_key_rotation_error
    return Binding(
        ref, customer_key=wire(props.encryption_type) in CUSTOMER_KEY_TYPES,
        key=KeyUri(active.vault, active.suffix, active.name, None) if active and follows
        else active, in_use=active.version if active else None,
        since=props.last_key_rotation_timestamp, follows_latest=follows, identities=identities,
        encryption_identity=identities[0] if len(identities) == 1 else None,
        federated_client_id=_lower(props.federated_client_id),
        problem=f"autoKeyRotationError {error.code}: {error.message}" if error else None)
