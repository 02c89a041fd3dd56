"""A deployment that meets every prerequisite passes every check, and nothing secret is printed."""

from __future__ import annotations

import io
import json
from typing import Any

from cmkctl.live.verify import Request, run
from tests.verify.conftest import ENV, KEY_URI, PRINCIPAL, VAULT_ID
from tests.verify.fake_cloud import Cloud, b64url


def verify(connector: Any, fmt: str = "json", **overrides: Any) -> tuple[int, str, str]:
    request = Request(**{"stack": None, "key_uri": KEY_URI, "vault_id": VAULT_ID,
                         "principal_object_id": PRINCIPAL, "format": fmt, **overrides})
    out, err = io.StringIO(), io.StringIO()
    code = run(request, stdout=out, stderr=err, environ=ENV, connector=connector)
    return code, out.getvalue(), err.getvalue()


def test_every_check_passes_on_a_healthy_deployment(connector: Any, cloud: Cloud) -> None:
    code, out, err = verify(connector)
    report = json.loads(out)
    assert (code, err) == (0, "")
    assert {c["id"]: c["status"] for c in report["checks"]} == {
        check: "pass" for check in (
            "vault.soft-delete", "vault.purge-protection", "vault.retention", "vault.rbac",
            "vault.firewall", "vault.trusted-services", "vault.lock", "key[cmk].lock",
            "grant.crypto", "grant.no-purge", "grant.least-privilege", "key[cmk].exists",
            "key[cmk].enabled", "key[cmk].not-expired", "key[cmk].active", "key[cmk].type-size",
            "key[cmk].operations", "key[cmk].previous-version", "key[cmk].rotation-policy",
            "key[cmk].round-trip", "key[cmk].local-wrap")}
    assert report["ok"] is True
    assert set(cloud.scopes) == {"https://vault.azure.net/.default",
                                 "https://management.azure.com/.default"}


def test_no_key_material_reaches_the_report(connector: Any, cloud: Cloud) -> None:
    _, text_out, _ = verify(connector, fmt="text")
    _, json_out, _ = verify(connector, fmt="json")
    assert len(cloud.plaintexts) == 6  # two runs: wrap, unwrap, local-wrap unwrap each
    public = cloud.vaults["kvcustomer1"].keys["cmk"].versions[-1].private.public_key()
    modulus = public.public_numbers().n.to_bytes(256, "big")
    for output in (text_out, json_out):
        for secret in [*cloud.plaintexts, modulus]:
            assert secret.hex() not in output
            assert b64url(secret) not in output
            assert b64url(secret[:24]) not in output



def test_text_report_gives_reason_and_fix_per_finding(connector: Any, cloud: Cloud) -> None:
    cloud.locks.pop()  # the key's lock
    cloud.vaults["kvcustomer1"].firewall_blocks = True
    code, out, _ = verify(connector, fmt="text")
    lines = out.splitlines()
    assert code == 1
    assert lines[:5] == [
        "vault: https://kvcustomer1.vault.azure.net/", f"vault id: {VAULT_ID}",
        f"key cmk: {KEY_URI}", f"provider principal: {PRINCIPAL}", "credential: managed-identity"]
    lock = lines.index("FAIL   key[cmk].lock              lock on the key: no lock on this "
                       "resource: an ARM delete would succeed and consumers lose the key within "
                       "about 10 minutes (only the inherited lock 'vault-do-not-delete' from a "
                       "parent scope)")
    assert lines[lock + 1] == (
        "                                  fix: az lock create --name cmk-do-not-delete "
        f"--lock-type CanNotDelete --resource {VAULT_ID}/keys/cmk")
    assert "NOCHK  key[cmk].round-trip" in out
    assert lines[-1] == "NOT verified: 10 required check(s) failed or could not run"
