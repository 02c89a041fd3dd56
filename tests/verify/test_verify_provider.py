"""verify on the provider side, and key status: each store as deployed, each way it can be wrong.

The stores are served as fake_provider documents (Microsoft's Storage 2024-01-01, Sql
2023-08-01, DiskRP 2024-03-02 and ManagedIdentity 2023-01-31 examples).
"""

from __future__ import annotations

import io
import json
from typing import Any

from cmkctl.live import key_status
from cmkctl.live.verify import Request, run
from tests.verify.conftest import CURRENT_VERSION, ENV, KEY, KEY_URI, OLD_VERSION, VAULT, VAULT_ID
from tests.verify.fake_cloud import DAY, Cloud, now
from tests.verify.fake_provider import (
    APP_CLIENT_ID,
    DISK,
    IDENTITY_CLIENT_ID,
    IDENTITY_ID,
    SQL,
    STORAGE,
    disk_encryption_set,
    identity,
    sql_server,
    storage_account,
)

URL = f"https://{VAULT}.vault.azure.net"


def stage(cloud: Cloud, **storage: Any) -> None:
    cloud.resources.update(storage_account("stcontoso", URL, KEY, **{
        "current": CURRENT_VERSION, "rotated": now() - 19 * DAY, **storage}))
    cloud.resources.update(sql_server("sql-contoso", VAULT, KEY, CURRENT_VERSION,
                                      created=now() - 19 * DAY))
    cloud.resources.update(disk_encryption_set("des-contoso", VAULT, KEY, CURRENT_VERSION,
                                               rotated=now() - 19 * DAY))


def stores(connector: Any, *consumers: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    request = Request(**{"stack": None, "key_uri": KEY_URI, "vault_id": VAULT_ID,
                         "format": "json", "consumers": consumers,
                         "app_client_id": APP_CLIENT_ID, **fields})
    out = io.StringIO()
    code = run(request, stdout=out, stderr=io.StringIO(), environ=ENV, connector=connector)
    return code, {c["id"]: c for c in json.loads(out.getvalue())["checks"]
                  if c["id"].startswith("store[")}


def test_healthy_stores_pass_and_report_their_version(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    _, checks = stores(connector, STORAGE, SQL, DISK)
    assert {k: v["status"] for k, v in checks.items()} == {
        **{f"store[storage:stcontoso].{c}": "pass" for c in (
            "key", "identity", "federated-client-id", "version")},
        **{f"store[{s}].{c}": "pass" for s in ("sql:sql-contoso", "disk:des-contoso")
           for c in ("key", "federated-client-id", "accessible", "version")},
        # by ARM id alone the expected identity is unknown
        **{f"store[{s}].identity": "could-not-check" for s in (
            "storage:stcontoso", "sql:sql-contoso", "disk:des-contoso")}}
    assert checks["store[storage:stcontoso].key"]["reason"] == f"{KEY_URI} (follows new versions)"
    assert checks["store[sql:sql-contoso].version"]["reason"].startswith(
        f"on version {CURRENT_VERSION} since ")


def test_with_the_identity_named_every_store_check_passes(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    cloud.resources.update(identity())
    _, checks = stores(connector, STORAGE, SQL, DISK, identity_id=IDENTITY_ID)
    assert len(checks) == 14
    assert {k: v["status"] for k, v in checks.items() if v["status"] != "pass"} == {}


def test_a_store_on_another_identity_fails(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    cloud.resources.update(identity())
    other = IDENTITY_ID.replace("id-contoso-cmk-prod", "id-other")
    cloud.resources.update(disk_encryption_set("des-contoso", VAULT, KEY, CURRENT_VERSION,
                                               identity_id=other))
    code, checks = stores(connector, DISK, identity_id=IDENTITY_ID)
    assert code == 1
    assert checks["store[disk:des-contoso].identity"]["reason"] == (
        f"uses {other.lower()}, not {IDENTITY_ID.lower()}")


def test_identity_id_must_name_an_identity(connector: Any, cloud: Cloud) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run(Request(stack=None, key_uri=KEY_URI, consumers=(STORAGE,), identity_id=STORAGE),
               stdout=out, stderr=err, environ=ENV, connector=connector)
    assert (code, cloud.requests) == (2, [])
    assert err.getvalue().startswith(f"cmkctl verify: --identity-id {STORAGE!r} is not the ARM "
                                     "id of a user-assigned identity")


def test_platform_managed_keys_fail(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    cloud.resources[STORAGE.lower()]["properties"]["encryption"]["keySource"] = "Microsoft.Storage"
    code, checks = stores(connector, STORAGE)
    assert code == 1
    assert checks["store[storage:stcontoso].key"]["reason"] == (
        "encrypted with platform-managed keys, not the customer's key")


def test_another_key_fails(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    cloud.resources.update(disk_encryption_set("des-contoso", VAULT, "other", CURRENT_VERSION))
    _, checks = stores(connector, DISK)
    assert checks["store[disk:des-contoso].key"]["reason"] == (
        f"uses {URL}/keys/other, not {KEY_URI}")


def test_a_store_pinned_to_another_version_fails(connector: Any, cloud: Cloud) -> None:
    stage(cloud, pinned=OLD_VERSION, current=OLD_VERSION)
    _, checks = stores(connector, STORAGE, key_uri=f"{KEY_URI}/{CURRENT_VERSION}")
    assert checks["store[storage:stcontoso].key"]["reason"] == (
        f"pinned to {OLD_VERSION}, not the configured {CURRENT_VERSION}")


def test_the_identitys_own_client_id_is_not_the_apps(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    cloud.resources.update(sql_server("sql-contoso", VAULT, KEY, CURRENT_VERSION,
                                      created=now(), app_client_id=IDENTITY_CLIENT_ID))
    _, checks = stores(connector, SQL)
    assert checks["store[sql:sql-contoso].federated-client-id"]["reason"] == (
        f"names {IDENTITY_CLIENT_ID}, not the app {APP_CLIENT_ID} (the managed identity's own "
        "client id does not work across tenants)")


def test_unknown_app_client_id_cannot_be_checked(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    code, checks = stores(connector, STORAGE, app_client_id=None)
    check = checks["store[storage:stcontoso].federated-client-id"]
    assert (code, check["status"]) == (1, "could-not-check")
    assert check["fix"] == "pass --app-client-id (pulumi stack output providerAppClientId)"


def test_disk_rotation_error_is_reported_as_inaccessible(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    message = ("Auto-key rotation was disabled as managed service identity associated with "
               "DiskEncryptionSet 'des-contoso' was not found.")
    cloud.resources.update(disk_encryption_set("des-contoso", VAULT, KEY, CURRENT_VERSION,
                                               rotation_error=message))
    _, checks = stores(connector, DISK)
    assert checks["store[disk:des-contoso].accessible"]["reason"] == (
        f"autoKeyRotationError ManagedServiceIdentityNotFound: {message}")


def test_inaccessible_sql_databases_fail(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    cloud.resources.update(sql_server("sql-contoso", VAULT, KEY, CURRENT_VERSION,
                                      created=now(), inaccessible=("billing",)))
    _, checks = stores(connector, SQL)
    assert checks["store[sql:sql-contoso].accessible"]["reason"] == (
        "databases billing report status Inaccessible (the server cannot reach its TDE "
        "protector)")


def test_a_missing_store_fails(connector: Any, cloud: Cloud) -> None:
    _, checks = stores(connector, STORAGE)
    assert checks["store[storage:stcontoso].key"]["status"] == "fail"
    assert checks["store[storage:stcontoso].key"]["reason"] == f"{STORAGE} does not exist"


def test_consumer_that_is_not_a_store_is_a_bad_argument(connector: Any, cloud: Cloud) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run(Request(stack=None, key_uri=KEY_URI, consumers=(IDENTITY_ID,)), stdout=out,
               stderr=err, environ=ENV, connector=connector)
    assert (code, out.getvalue(), cloud.requests) == (2, "", [])
    assert err.getvalue().startswith(f"cmkctl verify: --consumer {IDENTITY_ID!r} is not the ARM "
                                     "id of a storage account, SQL server or disk encryption set")


# --- key status ---------------------------------------------------------------------------------

def status(connector: Any, fmt: str = "text", **fields: Any) -> tuple[int, str]:
    out = io.StringIO()
    request = key_status.Request(**{"key_uri": KEY_URI, "stack": None,
                                    "consumers": (STORAGE, SQL, DISK), "format": fmt, **fields})
    code = key_status.run(request, stdout=out, stderr=io.StringIO(), environ=ENV,
                          connector=connector)
    return code, out.getvalue()


def test_status_says_the_previous_version_may_go(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    code, out = status(connector)
    lines = out.splitlines()
    assert code == 0
    assert lines[:3] == ["credentials: vault side managed-identity, provider side the same "
                         "identity", f"key {KEY_URI}", "  versions (newest first):"]
    assert lines[3].startswith(f"    {CURRENT_VERSION}  created ")
    assert lines[-1] == (f"  previous version {OLD_VERSION} may be disabled: every store is on a "
                         "newer version for at least 24 h")


def test_status_says_not_yet_and_why(connector: Any, cloud: Cloud) -> None:
    stage(cloud, current=OLD_VERSION, rotated=None)
    code, out = status(connector, "json")
    (key,) = json.loads(out)["keys"]
    assert code == 0
    assert key["previousVersion"] == {"version": OLD_VERSION, "mayDisable": False, "reasons": [
        f"storage:stcontoso is on version {OLD_VERSION}"]}
    assert [s["version"] for s in key["stores"]] == [OLD_VERSION, CURRENT_VERSION,
                                                     CURRENT_VERSION]


def test_status_exits_1_when_a_store_cannot_be_read(connector: Any, cloud: Cloud) -> None:
    stage(cloud)
    cloud.resources.pop(DISK.lower())
    code, out = status(connector)
    assert code == 1
    assert "    disk:des-contoso (404 ResourceNotFound while reading disk:des-contoso" in out
