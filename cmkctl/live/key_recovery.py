"""``cmkctl key recover|restore``: a soft-deleted key or vault back, a purged key from its blob.

Recovery refuses what is not deleted; restore refuses a name that exists or is soft-deleted,
a blob that does not match its record, and a record of another key. Nothing is purged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cmkctl.live.key_plan import (
    Call,
    Context,
    Plan,
    RefusedError,
    backup_file,
    call_url,
    iso,
    listed,
)
from cmkctl.live.target import principal
from components.config.key_uri import KeyUri

VAULT_SKU = {"family": "A", "name": "standard"}
"""Sent with ``createMode: recover`` as ``az keyvault recover`` does ("tenantId and sku
shouldn't be required", azure-cli keyvault/custom.py recover_vault)."""


def plan_recover(context: Context) -> Plan:
    return _recover_vault(context) if context.vault is not None else _recover_key(context)


def _recover_key(context: Context) -> Plan:
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    key = context.key
    assert key is not None
    with context.azure.keys(key.vault_uri) as client:
        try:
            deleted = client.get_deleted_key(key.name)
        except ResourceNotFoundError:
            present = listed(client, key.name)
            if present:
                raise RefusedError(f"key {key.name} is not deleted ({len(present)} versions in "
                                   f"vault {key.vault}); there is nothing to recover") from None
            raise RefusedError(f"key {key.name} is neither in vault {key.vault} nor among its "
                               "deleted keys: purged (or never created)",
                          f"restore it from its backup: cmkctl key restore --key-uri "
                          f"{key.versionless} --backup <blob>") from None
    before = {"deleted": iso(deleted.deleted_date),
              "scheduledPurge": iso(deleted.scheduled_purge_date)}

    def perform() -> Any:
        with context.azure.keys(key.vault_uri) as client:
            recovered = client.begin_recover_deleted_key(key.name, _polling_interval=0).result()
        return {"version": recovered.properties.version, "enabled": recovered.properties.enabled}

    notes = [f"recovered: key {key.name} (deleted {before['deleted']}, would have been purged "
             f"{before['scheduledPurge']}) is back with all its versions; its lock is not "
             "(locks go with deletion): run pulumi up on the customer stack, then cmkctl verify"]
    return Plan([Call("POST", call_url(context, f"deletedkeys/{key.name}/recover"))], before,
                perform, notes)


def _recover_vault(context: Context) -> Plan:
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    from cmkctl.live.report import Report  # noqa: PLC0415
    from cmkctl.live.target import KEY_TYPES, KeyTarget, Target  # noqa: PLC0415
    from cmkctl.live.verify_vault import check_grant, check_locks  # noqa: PLC0415

    vault = context.vault
    assert vault is not None
    with context.azure.vaults(vault.subscription) as client:
        try:
            client.vaults.get(vault.resource_group, vault.name)
        except ResourceNotFoundError:
            pass
        else:
            raise RefusedError(f"vault {vault.name} exists; there is nothing to recover")
        deleted = next((d for d in client.vaults.list_deleted()
                        if d.properties is not None
                        and str(d.properties.vault_id).lower() == vault.id.lower()), None)
        api = client._config.api_version
    if deleted is None:
        raise RefusedError(f"vault {vault.name} is not among the subscription's deleted vaults: "
                           "purged (or never created); its keys can only come back from backup "
                           "blobs",
                      "create a vault in the same subscription and geography (pulumi up) and "
                      "cmkctl key restore each key from its backup")
    props = deleted.properties
    assert props is not None  # matched on props.vault_id above
    body = {"location": props.location, "properties": {
        "tenantId": context.request.tenant_id, "sku": VAULT_SKU, "createMode": "recover"}}
    before = {"deleted": iso(props.deletion_date),
              "scheduledPurge": iso(props.scheduled_purge_date), "location": props.location}

    def perform() -> Any:
        from azure.mgmt.keyvault.models import VaultCreateOrUpdateParameters  # noqa: PLC0415

        with context.azure.vaults(vault.subscription) as client:
            recovered = client.vaults.begin_create_or_update(
                vault.resource_group, vault.name, VaultCreateOrUpdateParameters(body),
                polling_interval=0).result()
        report = Report({})
        vault_uri = str(recovered.properties.vault_uri)
        with context.azure.keys(vault_uri) as keys_client:
            names = sorted({str(p.name) for p in keys_client.list_properties_of_keys()})
        suffix = vault_uri.split(".", 1)[1].rstrip("/")
        keys = tuple(KeyTarget(KeyUri(vault.name, suffix, name, None), frozenset(), KEY_TYPES)
                     for name in names)
        target = Target(vault.name, vault_uri, vault, keys,
                        principal(context.request.principal_object_id))
        check_locks(context.azure, target, report)
        check_grant(context.azure, target, recovered, report)
        missing = [c for c in report.checks if c.status.value != "pass"]
        notes.extend(f"  {c.id}: {c.reason}" + (f" (fix: {c.fix})" if c.fix else "")
                     for c in missing)
        notes.append("  re-create what is missing with pulumi up on the customer stack (or the "
                     "fixes above), then cmkctl verify" if missing else
                     "  locks and grants are in place; run cmkctl verify")
        return {"vaultUri": recovered.properties.vault_uri,
                "checks": {c.id: c.status.value for c in report.checks}}

    url = (f"{context.azure.arm}{vault.id}?api-version={api}")
    notes = [f"recovered vault {vault.name} (deleted {before['deleted']}, would have been purged "
             f"{before['scheduledPurge']}) with its keys; locks and role assignments are not "
             "recovered with it:"]
    return Plan([Call("PUT", url, body)], before, perform, notes)


def plan_restore(context: Context) -> Plan:
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    key = context.key
    assert key is not None
    blob_path = backup_file(context.request.backup)
    blob = blob_path.read_bytes()
    record = _sidecar(blob_path)
    digest = hashlib.sha256(blob).hexdigest()
    if record is not None:
        if record.get("blobSha256") not in (None, digest):
            raise RefusedError(f"{blob_path} does not match its record {blob_path}.json (sha256 "
                          f"{digest}, recorded {record.get('blobSha256')}): the blob was changed "
                          "or swapped")
        if str(record.get("key", key.name)).lower() != key.name.lower():
            raise RefusedError(f"the backup holds key {record.get('key')!r}, not {key.name!r}; a "
                          "restored key keeps its name (pass the --key-uri of that name)")
    with context.azure.keys(key.vault_uri) as client:
        present = listed(client, key.name)
        if present:
            raise RefusedError(f"vault {key.vault} already has a key named {key.name} "
                          f"({len(present)} versions); a restore never replaces a key")
        try:
            deleted = client.get_deleted_key(key.name)
        except ResourceNotFoundError:
            deleted = None
    if deleted is not None:
        raise RefusedError(f"vault {key.vault} has a soft-deleted key named {key.name} (deleted "
                      f"{iso(deleted.deleted_date)})",
                      f"recover it instead: cmkctl key recover --key-uri {key.versionless}")

    def perform() -> Any:
        with context.azure.keys(key.vault_uri) as client:
            restored = client.restore_key_backup(blob)
        after = {"version": restored.properties.version, "enabled": restored.properties.enabled}
        expected = (record or {}).get("publicKeySha256")
        if expected:
            actual = public_key_digest(restored.key)
            after["publicKeySha256"] = actual
            if actual == expected:
                notes.append("public key matches the backup's record")
            else:
                after["problem"] = (f"the restored key's public key ({actual}) differs from the "
                                    f"backup's record ({expected}): this is not the key the "
                                    "record describes; check the blob before relying on it")
        else:
            notes.append("no public-key digest recorded with this backup: compare the key id "
                         "with the consumers' (cmkctl verify)")
        return after

    notes = [f"restored key {key.name} into {key.vault_uri} (same name, so the same key id); "
             "re-create its lock and grants with pulumi up, then cmkctl verify"]
    call = Call("POST", call_url(context, "keys/restore"),
                {"value": f"<{blob_path.name}: {len(blob)} bytes, sha256 {digest}>"})
    return Plan([call], {"key": None, "backupSha256": digest}, perform, notes)


def _sidecar(blob: Path) -> dict[str, Any] | None:
    """The record backup-key writes beside a blob (identifiers and digests only), if any."""
    path = blob.with_name(blob.name + ".json")
    if not path.is_file():
        return None
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise RefusedError(f"{path} is not the JSON record backup-key writes") from None
    return loaded if isinstance(loaded, dict) else None


def public_key_digest(jwk: Any) -> str:
    """sha256 over the RSA modulus and exponent: the same digest backup-key records."""
    return hashlib.sha256(bytes(jwk.n or b"") + b"." + bytes(jwk.e or b"")).hexdigest()


