"""The example provider stack (Pulumi.provider.yaml) names the stores: status, guards and verify
find them there, per key, and say which stack setting pins a store."""

from __future__ import annotations

import io
import json
from typing import Any

from cmkctl.live import key_status
from cmkctl.live.azure import Azure
from cmkctl.live.key_ops import Request, run
from cmkctl.live.verify import Request as VerifyRequest
from cmkctl.live.verify import run as verify
from tests.verify.conftest import ENV, OLD_VERSION, StaticCredential, healthy_vault
from tests.verify.fake_cloud import DAY, Cloud, now
from tests.verify.fake_provider import (
    APP_CLIENT_ID,
    disk_encryption_set,
    identity,
    sql_server,
    storage_account,
)
from tests.verify.loopback_tls import LoopbackServer

PROD = "kv-contoso-cmk-prod"
URL = f"https://{PROD}.vault.azure.net"
SHARED = f"{URL}/keys/cmk-shared"


def prod_cloud(cloud: Cloud) -> tuple[str, str]:
    """The customer's vault the provider stack points at, and its stores as deployed (all on
    the newest versions for 19 days, following new versions as keyVersionPolicy latest says)."""
    vault = healthy_vault(PROD, key="cmk-shared")
    vault.keys["cmk-disk"] = healthy_vault(key="cmk-disk").keys["cmk-disk"]
    cloud.vaults = {PROD: vault}
    shared = vault.keys["cmk-shared"].versions[-1].version
    disk = vault.keys["cmk-disk"].versions[-1].version
    moved = now() - 19 * DAY
    cloud.resources.update(identity())
    cloud.resources.update(storage_account("stcontosocmkprod", URL, "cmk-shared", current=shared,
                                           rotated=moved))
    cloud.resources.update(sql_server("sql-contoso-cmk-prod", PROD, "cmk-shared", shared,
                                      created=moved))
    cloud.resources.update(disk_encryption_set("des-contoso-cmk-prod", PROD, "cmk-disk", disk,
                                               rotated=moved))
    return shared, disk


def test_status_of_the_provider_stack_reports_each_key_and_its_stores(connector: Any,
                                                                      cloud: Cloud) -> None:
    prod_cloud(cloud)
    out = io.StringIO()
    code = key_status.run(key_status.Request(key_uri=None, stack="provider", format="json"),
                          stdout=out, stderr=io.StringIO(), environ=ENV, connector=connector)
    report = json.loads(out.getvalue())
    assert code == 0
    assert report["credentials"] == {"vault side": "managed-identity",
                                     "provider side": "managed-identity",
                                     "one identity for both": True}
    assert {k["key"]: ([s["store"] for s in k["stores"]], k["previousVersion"]["mayDisable"])
            for k in report["keys"]} == {
        SHARED: (["storage:stcontosocmkprod", "sql:sql-contoso-cmk-prod"], True),
        f"{URL}/keys/cmk-disk": (["disk:des-contoso-cmk-prod"], True)}


def test_disable_with_the_stack_refuses_while_its_sql_server_is_on_the_version(
        connector: Any, cloud: Cloud) -> None:
    prod_cloud(cloud)
    cloud.resources.update(sql_server("sql-contoso-cmk-prod", PROD, "cmk-shared", OLD_VERSION,
                                      created=now() - 200 * DAY, auto_rotation=False))
    err = io.StringIO()
    code = run(Request("disable", key_uri=f"{SHARED}/{OLD_VERSION}", stack="provider"),
               stdout=io.StringIO(), stderr=err, environ=ENV, connector=connector)
    assert code == 3
    assert err.getvalue().splitlines()[0] == (
        f"cmkctl key disable: refused: version {OLD_VERSION} may still be in use: "
        f"sql:sql-contoso-cmk-prod is on version {OLD_VERSION}")


def test_rotate_names_the_setting_that_pins_a_store(connector: Any, cloud: Cloud) -> None:
    shared, _ = prod_cloud(cloud)
    cloud.resources.update(storage_account("stcontosocmkprod", URL, "cmk-shared", pinned=shared,
                                           current=shared))
    out = io.StringIO()
    code = run(Request("rotate", key_uri=SHARED, stack="provider"), stdout=out,
               stderr=io.StringIO(), environ=ENV, connector=connector)
    assert code == 0
    assert out.getvalue().splitlines()[1:3] == [
        f"  storage:stcontosocmkprod: pinned to version {shared}; change storageKeyUri in "
        "Pulumi.provider.yaml to the new version and run pulumi up",
        "  sql:sql-contoso-cmk-prod: follows new versions, moves within about an hour"]


def provider_checks(connector: Any, **fields: Any) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    code = verify(VerifyRequest(**{"stack": "provider", "key_uri": None, "format": "json",
                                   "app_client_id": APP_CLIENT_ID, **fields}),
                  stdout=out, stderr=io.StringIO(), environ=ENV, connector=connector)
    report = json.loads(out.getvalue())
    return code, {c["id"]: c for c in report["checks"]
                  if c["id"].startswith(("store[", "provider."))}


def test_verify_of_the_provider_stack_checks_every_store_and_the_identity(
        connector: Any, cloud: Cloud) -> None:
    prod_cloud(cloud)
    _, checks = provider_checks(connector)
    assert {k: v["status"] for k, v in checks.items() if v["status"] != "pass"} == {}
    assert set(checks) == {
        "provider.identity",
        *(f"store[storage:stcontosocmkprod].{c}" for c in (
            "key", "identity", "federated-client-id", "version")),
        *(f"store[{s}].{c}" for s in ("sql:sql-contoso-cmk-prod", "disk:des-contoso-cmk-prod")
          for c in ("key", "identity", "federated-client-id", "accessible", "version"))}


def test_a_pinned_store_under_keyversionpolicy_latest_fails(connector: Any,
                                                            cloud: Cloud) -> None:
    shared, _ = prod_cloud(cloud)
    cloud.resources.update(storage_account("stcontosocmkprod", URL, "cmk-shared", pinned=shared,
                                           current=shared))
    _, checks = provider_checks(connector)
    assert checks["store[storage:stcontosocmkprod].key"]["reason"] == (
        f"pinned to {shared}, but keyVersionPolicy is latest")


def test_a_missing_identity_fails(connector: Any, cloud: Cloud) -> None:
    prod_cloud(cloud)
    cloud.resources = {k: v for k, v in cloud.resources.items()
                       if "/userassignedidentities/" not in k}
    _, checks = provider_checks(connector)
    assert checks["provider.identity"]["status"] == "fail"
    assert checks["provider.identity"]["reason"].endswith(
        "/userAssignedIdentities/id-contoso-cmk-prod does not exist: every store bound through "
        "it has lost the customer's key")


def test_provider_auth_builds_a_second_credential_and_says_so(cloud: Cloud,
                                                              server: LoopbackServer) -> None:
    prod_cloud(cloud)
    kinds: list[str] = []

    def connect(kind: str, target: Any) -> Azure:
        kinds.append(kind)
        return Azure(StaticCredential(cloud), transport=server.transport)

    out = io.StringIO()
    environ = {**ENV, "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"}
    key_status.run(key_status.Request(key_uri=None, stack="provider", provider_auth="env"),
                   stdout=out, stderr=io.StringIO(), environ=environ, connector=connect)
    assert kinds == ["managed-identity", "env"]
    assert out.getvalue().splitlines()[0] == (
        "credentials: vault side managed-identity, provider side env")


def test_status_of_a_stack_without_a_provider_side_says_where_the_stores_are(
        connector: Any, cloud: Cloud) -> None:
    err = io.StringIO()
    code = key_status.run(key_status.Request(key_uri=None, stack="customer"), stdout=io.StringIO(),
                          stderr=err, environ=ENV, connector=connector)
    assert (code, cloud.requests) == (2, [])
    assert err.getvalue() == (
        "cmkctl key status: stack 'customer' has no provider side: the stores that use its keys "
        "are in the provider's stack; pass that stack, or --key-uri with --consumer <ARM id> for "
        "each store\n")
