"""cmkctl key disable / enable / rotate: each guard refuses, each override passes, each run audits.

The loopback fake answers as Key Vault's examples do (UpdateKey-example.json for the PATCH,
RotateKey-example.json for rotate: specification/keyvault/data-plane/Microsoft.KeyVault/
stable/7.5/examples/) and serves the provider's stores as fake_provider documents.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from tests.verify.conftest import (
    CURRENT_VERSION,
    KEY,
    KEY_URI,
    OLD_VERSION,
    VAULT,
    api_versions,
    key_op,
)
from tests.verify.fake_cloud import DAY, OPERATOR, TOKEN, Cloud, now
from tests.verify.fake_provider import (
    DISK,
    SQL,
    STORAGE,
    disk_encryption_set,
    sql_server,
    storage_account,
)

VAULT_URL = f"https://{VAULT}.vault.azure.net"
CONFIRM = f"{VAULT}/{KEY}"
API = f"api-version={api_versions()[0]}"


def audit(stdout: str) -> dict[str, Any]:
    line = json.loads(stdout.splitlines()[-1])
    assert line["audit"] == "cmkctl key"
    return dict(line)


def stores_on(cloud: Cloud, version: str, moved_days_ago: float = 19) -> None:
    """Storage follows new versions, SQL and the disk encryption set auto-rotate: all on
    ``version`` since ``moved_days_ago``."""
    moved = now() - int(moved_days_ago * DAY)
    cloud.resources.update(storage_account("stcontoso", VAULT_URL, KEY, current=version,
                                           rotated=moved))
    cloud.resources.update(sql_server("sql-contoso", VAULT, KEY, version, created=moved))
    cloud.resources.update(disk_encryption_set("des-contoso", VAULT, KEY, version,
                                               rotated=moved))


def enabled(cloud: Cloud) -> dict[str, bool]:
    return {v.version: v.enabled for v in cloud.vaults[VAULT].keys[KEY].versions}


# --- disable: revocation of the newest enabled version --------------------------------------

def test_disabling_the_newest_version_is_refused_as_revocation(connector: Any,
                                                               cloud: Cloud) -> None:
    stores_on(cloud, CURRENT_VERSION)
    code, out, err = key_op(connector, "disable", consumers=(STORAGE, SQL, DISK))
    assert code == 3
    assert err == (
        f"cmkctl key disable: refused: version {CURRENT_VERSION} is the newest enabled version: "
        "disabling it revokes access; storage:stcontoso, sql:sql-contoso, disk:des-contoso stop "
        "working within about ten minutes\n"
        f"  override: --revoke --confirm {CONFIRM} (temporary revocation; undo with cmkctl key "
        "enable)\n")
    assert cloud.writes == []
    line = audit(out)
    assert (line["outcome"], line["what"]) == ("refused", {"operation": "disable",
                                                           "key": KEY_URI})
    assert line["who"] == {"credential": "managed-identity", **OPERATOR}


def test_revoke_without_confirm_is_still_refused(connector: Any, cloud: Cloud) -> None:
    code, out, _ = key_op(connector, "disable", revoke=True)
    assert (code, audit(out)["outcome"]) == (3, "refused")
    assert cloud.writes == []


def test_force_does_not_stand_in_for_revoke(connector: Any, cloud: Cloud) -> None:
    code, _, err = key_op(connector, "disable", force=True, confirm=CONFIRM)
    assert (code, cloud.writes) == (3, [])
    assert "disabling it revokes access" in err


def test_confirm_naming_another_key_is_a_bad_argument(connector: Any, cloud: Cloud) -> None:
    code, out, err = key_op(connector, "disable", revoke=True, confirm=f"{VAULT}/other")
    assert (code, out) == (2, "")
    assert err == (f"cmkctl key disable: --confirm '{VAULT}/other' does not name this key; it "
                   f"must be '{CONFIRM}'\n")
    assert cloud.requests == []


def test_revoke_with_confirm_disables_the_newest_version(connector: Any, cloud: Cloud) -> None:
    stores_on(cloud, CURRENT_VERSION)
    code, out, err = key_op(connector, "disable", revoke=True, confirm=CONFIRM,
                            consumers=(STORAGE,))
    assert (code, err) == (0, "")
    assert cloud.writes == [("PATCH", f"/keys/{KEY}/{CURRENT_VERSION}",
                             {"attributes": {"enabled": False}})]
    assert enabled(cloud) == {OLD_VERSION: True, CURRENT_VERSION: False}
    assert out.splitlines()[0] == (
        f"revoked: version {CURRENT_VERSION} is disabled; storage:stcontoso lose access within "
        f"about ten minutes. Undo: cmkctl key enable --key-uri {KEY_URI}/{CURRENT_VERSION}")
    line = audit(out)
    assert line["outcome"] == "done"
    assert line["what"] == {"operation": "disable", "key": KEY_URI, "flags": ["--revoke"]}
    assert line["after"] == {"version": CURRENT_VERSION, "enabled": False}
    assert [v["enabled"] for v in line["before"]["versions"]] == [True, True]
    assert line["calls"] == [f"PATCH {VAULT_URL}/keys/{KEY}/{CURRENT_VERSION}?{API} "
                             '{"attributes": {"enabled": false}}']


# --- disable: an older version ---------------------------------------------------------------

def old(connector: Any, **options: Any) -> tuple[int, str, str]:
    return key_op(connector, "disable", key_uri=f"{KEY_URI}/{OLD_VERSION}", **options)


def test_old_version_may_go_when_every_store_is_on_the_new_one_for_a_day(
        connector: Any, cloud: Cloud) -> None:
    stores_on(cloud, CURRENT_VERSION)
    code, out, err = old(connector, consumers=(STORAGE, SQL, DISK))
    assert (code, err) == (0, "")
    assert enabled(cloud) == {OLD_VERSION: False, CURRENT_VERSION: True}
    assert out.splitlines()[0].startswith(f"disabled version {OLD_VERSION}; it stays in the vault")


def test_old_version_in_use_by_a_store_is_refused(connector: Any, cloud: Cloud) -> None:
    stores_on(cloud, CURRENT_VERSION)
    cloud.resources.update(storage_account("stcontoso", VAULT_URL, KEY, pinned=OLD_VERSION,
                                           current=OLD_VERSION))
    code, out, err = old(connector, consumers=(STORAGE, SQL))
    assert code == 3
    assert err == (
        f"cmkctl key disable: refused: version {OLD_VERSION} may still be in use: "
        f"storage:stcontoso is on version {OLD_VERSION}\n"
        f"  override: --force --confirm {CONFIRM} (risks: a store still on {OLD_VERSION} loses "
        "access within about ten minutes; backups made under it cannot be restored while it is "
        "disabled)\n")
    assert (cloud.writes, audit(out)["outcome"]) == ([], "refused")


def test_old_version_is_kept_while_the_newest_is_under_a_day_old(connector: Any,
                                                                 cloud: Cloud) -> None:
    versions = cloud.vaults[VAULT].keys[KEY].versions
    versions[-1].created = now() - 5 * 3600
    stores_on(cloud, CURRENT_VERSION, moved_days_ago=0.1)
    code, _, err = old(connector, consumers=(DISK,))
    assert code == 3
    assert (f"the newest version {CURRENT_VERSION} was created 5.0 h ago (less than 24 h): "
            "services pick up a new version about once a day") in err
    assert f"disk:des-contoso moved to version {CURRENT_VERSION} only 2.4 h ago" in err
    assert cloud.writes == []


def test_old_version_is_kept_when_a_store_moved_less_than_a_day_ago(connector: Any,
                                                                    cloud: Cloud) -> None:
    stores_on(cloud, CURRENT_VERSION)
    cloud.resources.update(sql_server("sql-contoso", VAULT, KEY, CURRENT_VERSION,
                                      created=now() - 3 * 3600))
    code, _, err = old(connector, consumers=(STORAGE, SQL))
    assert code == 3
    assert err.splitlines()[0] == (
        f"cmkctl key disable: refused: version {OLD_VERSION} may still be in use: "
        f"sql:sql-contoso moved to version {CURRENT_VERSION} only 3.0 h ago (less than 24 h)")


def test_old_version_is_kept_when_no_store_is_named(connector: Any, cloud: Cloud) -> None:
    code, _, err = old(connector)
    assert code == 3
    assert (f"no consumer was named, so nothing shows who still uses {OLD_VERSION} (pass --stack "
            "with the provider side, or --consumer <ARM id> for each store)") in err


def test_old_version_is_kept_when_no_named_store_uses_the_key(connector: Any,
                                                              cloud: Cloud) -> None:
    stores_on(cloud, CURRENT_VERSION)
    cloud.resources.update(disk_encryption_set("des-contoso", VAULT, "other-key", CURRENT_VERSION))
    cloud.resources[STORAGE.lower()]["properties"]["encryption"]["keySource"] = "Microsoft.Storage"
    code, _, err = old(connector, consumers=(STORAGE, DISK))
    assert code == 3
    assert err.splitlines()[0] == (
        f"cmkctl key disable: refused: version {OLD_VERSION} may still be in use: none of the 2 "
        f"named store(s) encrypts with this key as deployed, so nothing shows who still uses "
        f"{OLD_VERSION}")


def test_old_version_is_kept_when_a_store_cannot_be_read(connector: Any, cloud: Cloud) -> None:
    stores_on(cloud, CURRENT_VERSION)
    cloud.resources.pop(STORAGE.lower())
    code, _, err = old(connector, consumers=(STORAGE, DISK))
    assert code == 3
    assert "storage:stcontoso (404 ResourceNotFound while reading storage:stcontoso" in err


def test_force_with_confirm_overrides_and_says_what_it_forced(connector: Any,
                                                              cloud: Cloud) -> None:
    code, out, err = old(connector, force=True, confirm=CONFIRM)
    assert (code, err) == (0, "")
    assert enabled(cloud)[OLD_VERSION] is False
    assert out.splitlines()[0].startswith(
        f"forced past: no consumer was named, so nothing shows who still uses {OLD_VERSION}")
    assert audit(out)["what"]["flags"] == ["--force"]


def test_force_without_confirm_is_refused(connector: Any, cloud: Cloud) -> None:
    code, _, _ = old(connector, force=True)
    assert (code, cloud.writes) == (3, [])


def test_dry_run_prints_the_exact_call_and_sends_nothing(connector: Any, cloud: Cloud) -> None:
    stores_on(cloud, CURRENT_VERSION)
    code, out, err = old(connector, consumers=(STORAGE,), dry_run=True)
    assert (code, err, cloud.writes) == (0, "", [])
    assert out.splitlines()[:2] == [
        "dry run: nothing sent; these calls would be made:",
        f"  PATCH {VAULT_URL}/keys/{KEY}/{OLD_VERSION}?{API} {{\"attributes\": {{\"enabled\": "
        "false}}"]
    line = audit(out)
    assert (line["outcome"], line["after"]) == ("dry-run", None)
    assert enabled(cloud) == {OLD_VERSION: True, CURRENT_VERSION: True}


def test_disabling_a_disabled_version_changes_nothing(connector: Any, cloud: Cloud) -> None:
    cloud.vaults[VAULT].keys[KEY].versions[0].enabled = False
    code, out, _ = old(connector)
    assert (code, cloud.writes) == (0, [])
    assert out.splitlines()[0] == f"version {OLD_VERSION} is already disabled"
    assert audit(out)["outcome"] == "unchanged"


# --- enable -----------------------------------------------------------------------------------

def test_enable_reverses_a_revocation(connector: Any, cloud: Cloud) -> None:
    cloud.vaults[VAULT].keys[KEY].versions[-1].enabled = False
    code, out, _ = key_op(connector, "enable", key_uri=f"{KEY_URI}/{CURRENT_VERSION}")
    assert code == 0
    assert cloud.writes == [("PATCH", f"/keys/{KEY}/{CURRENT_VERSION}",
                             {"attributes": {"enabled": True}})]
    assert enabled(cloud)[CURRENT_VERSION] is True
    assert audit(out)["after"] == {"version": CURRENT_VERSION, "enabled": True}


# --- rotate -----------------------------------------------------------------------------------

def test_rotate_makes_a_version_and_names_who_picks_it_up(connector: Any, cloud: Cloud) -> None:
    stores_on(cloud, CURRENT_VERSION)
    cloud.resources.update(storage_account("stcontoso", VAULT_URL, KEY, pinned=CURRENT_VERSION,
                                           current=CURRENT_VERSION))
    code, out, err = key_op(connector, "rotate", consumers=(STORAGE, SQL, DISK))
    assert (code, err) == (0, "")
    versions = cloud.vaults[VAULT].keys[KEY].versions
    assert len(versions) == 3
    assert cloud.writes == [("POST", f"/keys/{KEY}/rotate", {})]
    assert out.splitlines()[:4] == [
        f"rotated: {KEY_URI} has a new version; keep {CURRENT_VERSION} enabled at least 24 h and "
        "until every store is on the new one (cmkctl key status)",
        f"  storage:stcontoso: pinned to version {CURRENT_VERSION}; change its key URI to the new "
        "version and run pulumi up",
        "  sql:sql-contoso: follows new versions, moves within about an hour",
        "  disk:des-contoso: follows new versions, moves within about a day"]
    assert audit(out)["after"] == {"version": versions[-1].version, "enabled": True}


def test_rotating_a_revoked_key_is_refused(connector: Any, cloud: Cloud) -> None:
    cloud.vaults[VAULT].keys[KEY].versions[-1].enabled = False
    code, out, err = key_op(connector, "rotate")
    assert code == 3
    assert err.startswith(f"cmkctl key rotate: refused: the newest version {CURRENT_VERSION} is "
                          "disabled (temporary revocation?)")
    assert (cloud.writes, audit(out)["outcome"]) == ([], "refused")


def test_rotating_a_revoked_key_with_force_and_confirm(connector: Any, cloud: Cloud) -> None:
    cloud.vaults[VAULT].keys[KEY].versions[-1].enabled = False
    code, _, _ = key_op(connector, "rotate", force=True, confirm=CONFIRM)
    assert code == 0
    assert cloud.writes == [("POST", f"/keys/{KEY}/rotate", {})]


def test_rotating_a_soft_deleted_key_points_at_recover(connector: Any, cloud: Cloud) -> None:
    vault = cloud.vaults[VAULT]
    deleted = vault.keys.pop(KEY)
    deleted.deleted_on = now() - DAY
    vault.deleted[KEY] = deleted
    code, _, err = key_op(connector, "rotate")
    assert code == 3
    assert err.splitlines()[1] == (f"  override: recover it first: cmkctl key recover --key-uri "
                                   f"{KEY_URI}")


def test_a_refused_permission_is_a_failed_audited_run(connector: Any, cloud: Cloud) -> None:
    cloud.vaults[VAULT].denied.add("Microsoft.KeyVault/vaults/keys/update/action")
    code, out, err = key_op(connector, "disable", revoke=True, confirm=CONFIRM)
    assert code == 1
    assert err.splitlines()[0] == (
        "cmkctl key disable: 403 while sending the disable request: the identity running "
        "cmkctl lacks Microsoft.KeyVault/vaults/keys/update/action (Azure RBAC)")
    line = audit(out)
    assert (line["outcome"], line["after"]) == ("failed", None)
    assert enabled(cloud)[CURRENT_VERSION] is True


# --- audit log ----------------------------------------------------------------------------------

def test_audit_line_is_appended_to_the_log_owner_only(connector: Any, cloud: Cloud,
                                                      tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    key_op(connector, "disable", audit_log=str(log))
    key_op(connector, "enable", audit_log=str(log))
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(line["what"]["operation"], line["outcome"]) for line in lines] == [
        ("disable", "refused"), ("enable", "unchanged")]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_an_unwritable_audit_log_stops_before_any_call(connector: Any, cloud: Cloud,
                                                       tmp_path: Path) -> None:
    code, out, err = key_op(connector, "rotate", audit_log=str(tmp_path / "no" / "audit.jsonl"))
    assert (code, out) == (2, "")
    assert err == f"cmkctl key rotate: --audit-log: directory {tmp_path / 'no'} does not exist\n"
    assert cloud.requests == []


def test_no_token_reaches_the_audit_line(connector: Any, cloud: Cloud) -> None:
    _, out, _ = key_op(connector, "rotate")
    assert TOKEN not in out and TOKEN.split(".")[1] not in out
