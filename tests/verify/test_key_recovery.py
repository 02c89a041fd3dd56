"""cmkctl key recover / restore: the recovery table's rows, with their refusals.

Key Vault's examples the fake answers as (specification/keyvault/data-plane/Microsoft.KeyVault/
stable/7.5/examples/): RecoverDeletedKey-example.json, GetDeletedKey-example.json,
RestoreKey-example.json. The vault recovery is Vaults_CreateOrUpdate with
``properties.createMode: recover`` (specification/keyvault/resource-manager/Microsoft.KeyVault/
stable/2024-11-01/keyvault.json, VaultProperties.createMode), sent as ``az keyvault recover``
sends it (location of the deleted vault, tenant, sku standard).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from cmkctl.live.backup_key import run as backup
from tests.verify.conftest import (
    CURRENT_VERSION,
    ENV,
    KEY,
    KEY_URI,
    PRINCIPAL,
    VAULT,
    VAULT_ID,
    api_versions,
    key_op,
)
from tests.verify.fake_cloud import DAY, Cloud, now

TENANT = "8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21"
DATA_API, ARM_API = api_versions()


def audit(stdout: str) -> dict[str, Any]:
    return dict(json.loads(stdout.splitlines()[-1]))


def soft_delete_key(cloud: Cloud, days_ago: int = 3) -> int:
    vault = cloud.vaults[VAULT]
    key = vault.keys.pop(KEY)
    key.deleted_on = now() - days_ago * DAY
    vault.deleted[KEY] = key
    return key.deleted_on


def iso(epoch: int) -> str:
    from datetime import UTC, datetime  # noqa: PLC0415

    return datetime.fromtimestamp(epoch, UTC).isoformat()


# --- recover a key -----------------------------------------------------------------------------

def test_recover_brings_a_soft_deleted_key_back_with_its_dates(connector: Any,
                                                               cloud: Cloud) -> None:
    deleted = soft_delete_key(cloud)
    code, out, err = key_op(connector, "recover")
    assert (code, err) == (0, "")
    assert KEY in cloud.vaults[VAULT].keys and not cloud.vaults[VAULT].deleted
    assert cloud.writes == [("POST", f"/deletedkeys/{KEY}/recover", {})]
    assert out.splitlines()[0] == (
        f"recovered: key {KEY} (deleted {iso(deleted)}, would have been purged "
        f"{iso(deleted + 90 * DAY)}) is back with all its versions; its lock is not (locks go "
        "with deletion): run pulumi up on the customer stack, then cmkctl verify")
    line = audit(out)
    assert line["before"] == {"deleted": iso(deleted), "scheduledPurge": iso(deleted + 90 * DAY)}
    assert line["after"] == {"version": CURRENT_VERSION, "enabled": True}


def test_recover_refuses_a_key_that_is_not_deleted(connector: Any, cloud: Cloud) -> None:
    code, out, err = key_op(connector, "recover")
    assert code == 3
    assert err == (f"cmkctl key recover: refused: key {KEY} is not deleted (2 versions in vault "
                   f"{VAULT}); there is nothing to recover\n")
    assert (cloud.writes, audit(out)["outcome"]) == ([], "refused")


def test_recover_of_a_purged_key_points_at_restore(connector: Any, cloud: Cloud) -> None:
    del cloud.vaults[VAULT].keys[KEY]
    code, _, err = key_op(connector, "recover")
    assert code == 3
    assert err.splitlines() == [
        f"cmkctl key recover: refused: key {KEY} is neither in vault {VAULT} nor among its "
        "deleted keys: purged (or never created)",
        f"  override: restore it from its backup: cmkctl key restore --key-uri {KEY_URI} "
        "--backup <blob>"]


def test_recover_dry_run_sends_nothing(connector: Any, cloud: Cloud) -> None:
    soft_delete_key(cloud)
    code, out, _ = key_op(connector, "recover", dry_run=True)
    assert (code, cloud.writes) == (0, [])
    assert out.splitlines()[1] == (f"  POST https://{VAULT}.vault.azure.net/deletedkeys/{KEY}/"
                                   f"recover?api-version={DATA_API}")


# --- recover a vault ----------------------------------------------------------------------------

def delete_vault(cloud: Cloud) -> int:
    when = now() - 2 * DAY
    cloud.deleted_vaults[VAULT] = (cloud.vaults.pop(VAULT), when)
    cloud.locks.clear()  # a lock would have stopped the deletion: it was removed first
    cloud.assignments.clear()  # role assignments go with the vault
    return when


def test_vault_recovery_sends_create_mode_recover_and_lists_what_is_missing(
        connector: Any, cloud: Cloud) -> None:
    delete_vault(cloud)
    code, out, err = key_op(connector, "recover", key_uri=None, vault_id=VAULT_ID,
                            tenant_id=TENANT, principal_object_id=PRINCIPAL)
    assert (code, err) == (0, "")
    assert VAULT in cloud.vaults
    ((method, path, body),) = cloud.writes
    assert (method, path.lower()) == ("PUT", VAULT_ID.lower())
    assert body == {"location": "westeurope", "properties": {
        "tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "createMode": "recover"}}
    lines = out.splitlines()
    assert lines[0].startswith(f"recovered vault {VAULT} (deleted ")
    assert lines[1] == ("  vault.lock: no lock on this resource: an ARM delete would succeed and "
                        "consumers lose the key within about 10 minutes (fix: az lock create "
                        "--name cmk-do-not-delete --lock-type CanNotDelete --resource "
                        f"{VAULT_ID})")
    assert lines[2].startswith(f"  key[{KEY}].lock: no lock on this resource")
    assert lines[3].startswith("  grant.crypto: no role assignment: missing "
                               "Microsoft.KeyVault/vaults/keys/read")
    assert lines[-2] == ("  re-create what is missing with pulumi up on the customer stack (or "
                         "the fixes above), then cmkctl verify")
    assert audit(out)["after"]["checks"] == {"vault.lock": "fail", f"key[{KEY}].lock": "fail",
                                             "grant.crypto": "fail", "grant.no-purge": "pass",
                                             "grant.least-privilege": "pass"}


def test_vault_recovery_dry_run_prints_the_put_and_sends_nothing(connector: Any,
                                                                  cloud: Cloud) -> None:
    delete_vault(cloud)
    code, out, _ = key_op(connector, "recover", key_uri=None, vault_id=VAULT_ID,
                          tenant_id=TENANT, dry_run=True)
    assert (code, cloud.writes, VAULT in cloud.vaults) == (0, [], False)
    assert out.splitlines()[1] == (
        f"  PUT https://management.azure.com{VAULT_ID}?api-version={ARM_API} "
        f'{{"location": "westeurope", "properties": {{"tenantId": "{TENANT}", "sku": '
        '{"family": "A", "name": "standard"}, "createMode": "recover"}}')
    assert json.loads(out.splitlines()[-1])["what"] == {
        "operation": "recover", "vault": VAULT_ID, "flags": ["--dry-run"]}


def test_vault_recovery_refuses_a_vault_that_exists(connector: Any, cloud: Cloud) -> None:
    code, _, err = key_op(connector, "recover", key_uri=None, vault_id=VAULT_ID,
                          tenant_id=TENANT)
    assert code == 3
    assert err == (f"cmkctl key recover: refused: vault {VAULT} exists; there is nothing to "
                   "recover\n")
    assert cloud.writes == []


def test_vault_recovery_of_a_purged_vault_points_at_backups(connector: Any,
                                                            cloud: Cloud) -> None:
    cloud.vaults.pop(VAULT)
    code, _, err = key_op(connector, "recover", key_uri=None, vault_id=VAULT_ID,
                          tenant_id=TENANT)
    assert code == 3
    assert err.startswith(f"cmkctl key recover: refused: vault {VAULT} is not among the "
                          "subscription's deleted vaults: purged")


@pytest.mark.parametrize(("environment", "suffix"), [
    (None, "vault.azure.net"), ("usgovernment", "vault.usgovcloudapi.net"),
    ("china", "vault.azure.cn")])
def test_vault_recovery_signs_in_to_the_vaults_cloud(connector: Any, cloud: Cloud,
                                                     environment: str | None,
                                                     suffix: str) -> None:
    """An ARM id does not name its cloud: --azure-environment does, and the credential and
    Resource Manager are that cloud's (connect derives both from the vault suffix)."""
    delete_vault(cloud)
    asked: list[str] = []

    def connect(kind: str, vault_suffix: str) -> Any:
        asked.append(vault_suffix)
        return connector(kind, vault_suffix)

    code, _, err = key_op(connect, "recover", key_uri=None, vault_id=VAULT_ID,
                          tenant_id=TENANT, azure_environment=environment, dry_run=True)
    assert (code, err, asked) == (0, "", [suffix])


@pytest.mark.parametrize(("options", "message"), [
    ({"azure_environment": "usgovernment"},
     "--azure-environment is for recover --vault-id only; a key URI names its cloud"),
    ({"key_uri": None, "vault_id": VAULT_ID, "tenant_id": TENANT, "azure_environment": "mars"},
     "--azure-environment 'mars' is not one of public, usgovernment, china"),
])
def test_a_cloud_is_given_only_where_nothing_else_names_it(connector: Any, cloud: Cloud,
                                                           options: dict[str, Any],
                                                           message: str) -> None:
    code, _, err = key_op(connector, "recover", **options)
    assert (code, err, cloud.requests) == (2, f"cmkctl key recover: {message}\n", [])


def test_vault_recovery_needs_the_tenant(connector: Any, cloud: Cloud) -> None:
    code, _, err = key_op(connector, "recover", key_uri=None, vault_id=VAULT_ID)
    assert (code, cloud.requests) == (2, [])
    assert err == ("cmkctl key recover: --tenant-id is required to recover a vault (the "
                   "customer tenant the vault belongs to)\n")


# --- restore ------------------------------------------------------------------------------------

def take_backup(connector: Any, tmp_path: Path) -> Path:
    blob = tmp_path / "cmk.blob"
    assert backup(KEY_URI, str(blob), stdout=io.StringIO(), stderr=io.StringIO(), environ=ENV,
                  connector=connector) == 0
    return blob


def test_restore_of_a_purged_key_checks_the_public_key(connector: Any, cloud: Cloud,
                                                        tmp_path: Path) -> None:
    blob = take_backup(connector, tmp_path)
    del cloud.vaults[VAULT].keys[KEY]  # purged
    code, out, err = key_op(connector, "restore", backup=str(blob))
    assert (code, err) == (0, "")
    assert KEY in cloud.vaults[VAULT].keys
    assert out.splitlines()[:2] == [
        f"restored key {KEY} into https://{VAULT}.vault.azure.net/ (same name, so the same key "
        "id); re-create its lock and grants with pulumi up, then cmkctl verify",
        "public key matches the backup's record"]
    record = json.loads(Path(f"{blob}.json").read_text())
    line = audit(out)
    assert line["after"]["publicKeySha256"] == record["publicKeySha256"]
    assert line["calls"] == [
        f"POST https://{VAULT}.vault.azure.net/keys/restore?api-version={DATA_API} "
        f'{{"value": "<cmk.blob: {blob.stat().st_size} bytes, sha256 {record["blobSha256"]}>"}}']
    assert blob.read_bytes().hex() not in out


def test_restore_refuses_when_the_key_exists(connector: Any, cloud: Cloud,
                                             tmp_path: Path) -> None:
    blob = take_backup(connector, tmp_path)
    code, out, err = key_op(connector, "restore", backup=str(blob))
    assert code == 3
    assert err == (f"cmkctl key restore: refused: vault {VAULT} already has a key named {KEY} "
                   "(2 versions); a restore never replaces a key\n")
    assert (cloud.writes, audit(out)["outcome"]) == ([("POST", f"/keys/{KEY}/backup", {})],
                                                     "refused")


def test_restore_refuses_over_a_soft_deleted_key(connector: Any, cloud: Cloud,
                                                 tmp_path: Path) -> None:
    blob = take_backup(connector, tmp_path)
    soft_delete_key(cloud)
    code, _, err = key_op(connector, "restore", backup=str(blob))
    assert code == 3
    assert err.splitlines()[1] == (f"  override: recover it instead: cmkctl key recover "
                                   f"--key-uri {KEY_URI}")


def test_restore_refuses_a_blob_that_does_not_match_its_record(connector: Any, cloud: Cloud,
                                                               tmp_path: Path) -> None:
    blob = take_backup(connector, tmp_path)
    del cloud.vaults[VAULT].keys[KEY]
    blob.write_bytes(blob.read_bytes() + b"x")
    code, _, err = key_op(connector, "restore", backup=str(blob))
    assert code == 3
    assert f"{blob} does not match its record {blob}.json" in err
    assert KEY not in cloud.vaults[VAULT].keys


def test_restore_refuses_a_blob_of_another_key(connector: Any, cloud: Cloud,
                                               tmp_path: Path) -> None:
    blob = take_backup(connector, tmp_path)
    code, _, err = key_op(connector, "restore", backup=str(blob),
                          key_uri=f"https://{VAULT}.vault.azure.net/keys/other")
    assert code == 3
    assert f"the backup holds key '{KEY}', not 'other'" in err


def test_restore_of_another_public_key_than_recorded_exits_1(connector: Any, cloud: Cloud,
                                                              tmp_path: Path) -> None:
    blob = take_backup(connector, tmp_path)
    record_path = Path(f"{blob}.json")
    record = json.loads(record_path.read_text())
    record["publicKeySha256"] = "0" * 64
    record_path.write_text(json.dumps(record))
    del cloud.vaults[VAULT].keys[KEY]
    code, out, err = key_op(connector, "restore", backup=str(blob))
    assert code == 1
    assert err.startswith("cmkctl key restore: the restored key's public key (")
    assert f"differs from the backup's record ({'0' * 64})" in err
    assert (audit(out)["outcome"], audit(out)["reason"]) == ("done", err.split(": ", 1)[1][:-1])


def test_restore_without_a_record_says_the_key_was_not_compared(connector: Any, cloud: Cloud,
                                                                tmp_path: Path) -> None:
    blob = take_backup(connector, tmp_path)
    Path(f"{blob}.json").unlink()
    del cloud.vaults[VAULT].keys[KEY]
    code, out, _ = key_op(connector, "restore", backup=str(blob))
    assert code == 0
    assert out.splitlines()[1].startswith("no public-key digest recorded with this backup")


def test_restore_needs_a_backup_file(connector: Any, cloud: Cloud, tmp_path: Path) -> None:
    code, _, err = key_op(connector, "restore", backup=str(tmp_path / "missing.blob"))
    assert (code, cloud.requests) == (2, [])
    assert err == f"cmkctl key restore: --backup {tmp_path / 'missing.blob'} is not a file\n"
