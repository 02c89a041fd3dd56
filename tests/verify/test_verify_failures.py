"""Each failure the source documents list, staged in the loopback fake, gives the exact finding.

Data-loss table and recovery table: key disabled, expired, deleted (soft-deleted), purged,
access revoked (RBAC or firewall), lock removed; prerequisites: key size, purge protection,
trusted services, no purge rights; rotation: previous version disabled too early.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from cmkctl.live.verify import Request, run
from tests.verify.conftest import (
    CURRENT_VERSION,
    KEY,
    KEY_ID,
    KEY_URI,
    OLD_VERSION,
    PRINCIPAL,
    VAULT,
    VAULT_ID,
)
from tests.verify.fake_cloud import (
    CRYPTO_OFFICER,
    CRYPTO_SERVICE_ENCRYPTION_USER,
    CUSTOM_NO_PURGE,
    DAY,
    Cloud,
    Vault,
    now,
    rsa_key,
)

ENV = {"CMKCTL_AUTH": "env", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c",
       "AZURE_CLIENT_SECRET": "s"}
KEY_CHECKS = ("enabled", "not-expired", "active", "type-size", "operations", "previous-version")


def verify(connector: Any, **overrides: Any) -> tuple[int, dict[str, tuple[str, str, str]]]:
    request = Request(**{"stack": None, "key_uri": KEY_URI, "vault_id": VAULT_ID,
                         "principal_object_id": PRINCIPAL, "format": "json", **overrides})
    out = io.StringIO()
    code = run(request, stdout=out, stderr=io.StringIO(), environ=ENV, connector=connector)
    checks = json.loads(out.getvalue())["checks"]
    return code, {c["id"]: (c["status"], c["reason"], c["fix"]) for c in checks}


def not_passing(checks: dict[str, tuple[str, str, str]]) -> dict[str, str]:
    return {k: v[0] for k, v in checks.items() if v[0] != "pass"}


def vault(cloud: Cloud) -> Vault:
    return cloud.vaults[VAULT]


def test_disabled_key_fails_with_the_enable_command(connector: Any, cloud: Cloud) -> None:
    vault(cloud).keys[KEY].versions[-1].enabled = False
    code, checks = verify(connector)
    assert code == 1
    assert not_passing(checks) == {
        "key[cmk].exists": "fail", "key[cmk].enabled": "fail",
        "key[cmk].type-size": "could-not-check", "key[cmk].operations": "could-not-check",
        "key[cmk].round-trip": "fail", "key[cmk].local-wrap": "could-not-check"}
    assert checks["key[cmk].enabled"][1] == (
        f"version {CURRENT_VERSION} is disabled: consumers get 403 Forbidden")
    assert checks["key[cmk].enabled"][2] == (
        f"cmkctl key enable --key-uri {KEY_URI}/{CURRENT_VERSION}")
    assert checks["key[cmk].round-trip"][1].startswith("403 KeyDisabled: the key is disabled")


def test_expired_key_fails(connector: Any, cloud: Cloud) -> None:
    vault(cloud).keys[KEY].versions[-1].exp = now() - DAY
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (1, {"key[cmk].not-expired": "fail"})
    assert checks["key[cmk].not-expired"][1].startswith("expired on ")
    assert "az keyvault key rotate --vault-name kvcustomer1 --name cmk" in checks[
        "key[cmk].not-expired"][2]


def test_key_expiring_within_30_days_passes_with_a_warning(connector: Any, cloud: Cloud) -> None:
    vault(cloud).keys[KEY].versions[-1].exp = now() + 5 * DAY
    code, checks = verify(connector)
    assert code == 0
    assert checks["key[cmk].not-expired"][1].endswith("(within 30 days: rotate now)")


def test_key_not_yet_active_fails(connector: Any, cloud: Cloud) -> None:
    vault(cloud).keys[KEY].versions[-1].nbf = now() + DAY
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (1, {"key[cmk].active": "fail"})
    assert checks["key[cmk].active"][1].startswith("not usable before ")


def test_soft_deleted_key_fails_with_the_recover_command(connector: Any, cloud: Cloud) -> None:
    key = vault(cloud).keys.pop(KEY)
    key.deleted_on = now() - DAY
    vault(cloud).deleted[KEY] = key
    code, checks = verify(connector)
    assert code == 1
    status, reason, fix = checks["key[cmk].exists"]
    assert status == "fail"
    assert reason.startswith("the key was deleted on ") and "soft-deleted until" in reason
    assert fix == f"cmkctl key recover --key-uri {KEY_URI}"
    assert not_passing(checks) == {
        "key[cmk].exists": "fail", "key[cmk].rotation-policy": "could-not-check",
        **{f"key[cmk].{name}": "could-not-check" for name in KEY_CHECKS},
        "key[cmk].round-trip": "could-not-check", "key[cmk].local-wrap": "could-not-check"}
    # Key Vault's 404 for the key, not "no rotation policy" (a key without one gets 200)
    assert checks["key[cmk].rotation-policy"][1].startswith(
        "404 KeyNotFound while reading the rotation policy")


def test_purged_key_fails_pointing_at_the_backup(connector: Any, cloud: Cloud) -> None:
    del vault(cloud).keys[KEY]
    code, checks = verify(connector)
    status, reason, fix = checks["key[cmk].exists"]
    assert (code, status) == (1, "fail")
    assert reason == ("the key is neither in the vault nor among its deleted keys: purged (or "
                      "never created); data encrypted with it is unreadable")
    assert fix == (f"restore it from its backup blob: cmkctl key restore --key-uri {KEY_URI} "
                   "--backup <blob> (docs/operations.md: Restore); without a backup the data "
                   "is lost")


def test_soft_deleted_vault_fails_with_the_recover_command(connector: Any, cloud: Cloud) -> None:
    cloud.deleted_vaults[VAULT] = (cloud.vaults.pop(VAULT), now() - DAY)
    code, checks = verify(connector)
    assert code == 1
    status, reason, fix = checks["vault.purge-protection"]
    assert status == "fail"
    assert reason.startswith("the vault was deleted on ") and "soft-deleted until" in reason
    assert fix == (f"cmkctl key recover --vault-id {VAULT_ID} --tenant-id <the vault's tenant> "
                   "(it lists the locks and role assignments to re-create: they do not come "
                   "back with the vault), then run verify again")
    assert checks["key[cmk].exists"][:2] == (
        "could-not-check", "404 VaultNotFound while listing the key's versions: vault "
                           f"{VAULT} does not exist")


def test_purged_vault_fails(connector: Any, cloud: Cloud) -> None:
    del cloud.vaults[VAULT]
    code, checks = verify(connector)
    assert (code, checks["vault.soft-delete"][:2]) == (1, (
        "fail", "the vault does not exist and is not among deleted vaults: purged, never "
                "created, or the --vault-id is wrong"))


def test_revoked_wrap_permission_is_named_in_the_reason(connector: Any, cloud: Cloud) -> None:
    vault(cloud).denied = {"Microsoft.KeyVault/vaults/keys/wrap/action"}
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (1, {"key[cmk].round-trip": "could-not-check"})
    assert checks["key[cmk].round-trip"][1] == (
        "403 while wrapping and unwrapping: the identity running cmkctl lacks "
        "Microsoft.KeyVault/vaults/keys/wrap/action (Azure RBAC)")


def test_revoked_provider_grant_fails_with_the_role_assignment(connector: Any,
                                                               cloud: Cloud) -> None:
    cloud.assignments.clear()
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (1, {"grant.crypto": "fail"})
    assert checks["grant.crypto"][1] == (
        "no role assignment: missing Microsoft.KeyVault/vaults/keys/read, "
        "Microsoft.KeyVault/vaults/keys/wrap/action, Microsoft.KeyVault/vaults/keys/unwrap/action"
        " (nothing at all for this principal: is --principal-object-id the service principal's "
        "object id, not the app's client id?)")
    assert checks["grant.crypto"][2] == (
        f"az role assignment create --assignee-object-id {PRINCIPAL} --assignee-principal-type "
        f"ServicePrincipal --role e147488a-f6f5-4113-8e2d-b22465e65bf6 --scope {KEY_ID}")


def test_firewall_denial_is_told_apart_from_a_permission(connector: Any, cloud: Cloud) -> None:
    vault(cloud).firewall_blocks = True
    code, checks = verify(connector)
    assert code == 1
    assert {k for k, v in checks.items() if v[0] != "pass"} == {
        k for k in checks if k.startswith("key[cmk].") and k != "key[cmk].lock"}
    reason = checks["key[cmk].exists"][1]
    assert reason == ("403 firewall denial while listing the key's versions: this machine's "
                      "address (203.0.113.7) is not allowed by the vault firewall")
    assert checks["key[cmk].exists"][2].startswith(
        f"run cmkctl from an allowed network, or allow this address: az keyvault network-rule "
        f"add --name {VAULT} --ip-address")


def test_removed_key_lock_fails_even_under_a_vault_lock(connector: Any, cloud: Cloud) -> None:
    cloud.locks = [lock for lock in cloud.locks if lock["scope"] != KEY_ID]
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (1, {"key[cmk].lock": "fail"})
    assert checks["key[cmk].lock"][1].endswith(
        "(only the inherited lock 'vault-do-not-delete' from a parent scope)")
    assert checks["key[cmk].lock"][2] == (
        f"az lock create --name cmk-do-not-delete --lock-type CanNotDelete --resource {KEY_ID}")


def test_removed_vault_lock_fails(connector: Any, cloud: Cloud) -> None:
    cloud.locks = [lock for lock in cloud.locks if lock["scope"] != VAULT_ID]
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (1, {"vault.lock": "fail"})


def test_wrong_key_size_fails(connector: Any, cloud: Cloud) -> None:
    vault(cloud).keys[KEY].versions[-1].private = rsa_key(3072, 3)
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (1, {"key[cmk].type-size": "fail"})
    assert checks["key[cmk].type-size"][1] == "RSA 3072 bits (allowed: RSA 2048, RSA-HSM 2048)"
    code, checks = verify(connector, key_sizes=(2048, 3072))
    assert code == 0


@pytest.mark.parametrize(("hours", "expected"), [(3, "fail"), (30, "pass")])
def test_previous_version_disabled_within_24_hours_fails(connector: Any, cloud: Cloud,
                                                         hours: int, expected: str) -> None:
    old, current = vault(cloud).keys[KEY].versions
    current.created = current.nbf = now() - hours * 3600
    old.enabled = False
    code, checks = verify(connector)
    assert (code, checks["key[cmk].previous-version"][0]) == (
        1 if expected == "fail" else 0, expected)
    if expected == "fail":
        assert checks["key[cmk].previous-version"][2].startswith(
            f"cmkctl key enable --key-uri {KEY_URI}/{OLD_VERSION} (keep it enabled")


def test_purge_right_for_the_provider_fails(connector: Any, cloud: Cloud) -> None:
    cloud.assignments.append({"scope": VAULT_ID, "principal": PRINCIPAL, "role": CRYPTO_OFFICER})
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (1, {"grant.no-purge": "fail",
                                               "grant.least-privilege": "fail"})
    assert checks["grant.no-purge"][1].endswith(
        f"Key Vault Crypto Officer at {VAULT_ID} grants "
        "Microsoft.KeyVault/vaults/keys/purge/action")


def test_excluded_purge_is_not_a_purge_right(connector: Any, cloud: Cloud) -> None:
    cloud.assignments = [{"scope": KEY_ID, "principal": PRINCIPAL, "role": CUSTOM_NO_PURGE}]
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (0, {"grant.least-privilege": "fail"})
    assert checks["grant.least-privilege"][1] == "also grants Microsoft.KeyVault/vaults/keys/*"


def test_grant_on_the_resource_group_is_wider_than_needed(connector: Any, cloud: Cloud) -> None:
    group = VAULT_ID.split("/providers/")[0]
    cloud.assignments = [{"scope": group, "principal": PRINCIPAL,
                          "role": CRYPTO_SERVICE_ENCRYPTION_USER}]
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (0, {"grant.least-privilege": "fail"})
    assert checks["grant.least-privilege"][1] == (
        "scoped wider than the key or vault: Key Vault Crypto Service Encryption User at "
        f"{group}")


@pytest.mark.parametrize(("keys", "failing"), [
    (["get", "wrapKey", "unwrapKey"], {}),
    (["get", "wrapKey", "unwrapKey", "purge"],
     {"grant.no-purge": "fail", "grant.least-privilege": "fail"}),
    (["get"], {"grant.crypto": "fail"}),
    (["all"], {"grant.no-purge": "fail", "grant.least-privilege": "fail"}),
])
def test_access_policy_grant(connector: Any, cloud: Cloud, keys: list[str],
                             failing: dict[str, str]) -> None:
    properties = vault(cloud).properties
    properties["enableRbacAuthorization"] = False
    properties["accessPolicies"] = [{"tenantId": properties["tenantId"], "objectId": PRINCIPAL,
                                     "permissions": {"keys": keys}}]
    code, checks = verify(connector)
    assert not_passing(checks) == {"vault.rbac": "fail", **failing}
    assert code == (1 if "grant.crypto" in failing or "grant.no-purge" in failing else 0)


def test_vault_without_prerequisites_fails_each(connector: Any, cloud: Cloud) -> None:
    properties = vault(cloud).properties
    del properties["enablePurgeProtection"]
    properties["softDeleteRetentionInDays"] = 7
    properties["networkAcls"] = {"bypass": "None", "defaultAction": "Allow"}
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (1, {
        "vault.purge-protection": "fail", "vault.retention": "fail", "vault.firewall": "fail",
        "vault.trusted-services": "fail"})
    assert checks["vault.retention"][1] == "7 days (needs 90)"
    assert checks["vault.trusted-services"][2].startswith(
        f"az keyvault update --name {VAULT} --bypass AzureServices")


def test_omitted_vault_properties_read_as_arm_defaults(connector: Any, cloud: Cloud) -> None:
    properties = vault(cloud).properties
    for name in ("enableSoftDelete", "softDeleteRetentionInDays"):
        del properties[name]
    properties["networkAcls"] = {"defaultAction": "Deny"}
    assert verify(connector)[0] == 0


def test_public_network_access_disabled_passes_the_firewall(connector: Any,
                                                            cloud: Cloud) -> None:
    properties = vault(cloud).properties
    properties["publicNetworkAccess"] = "Disabled"
    del properties["networkAcls"]
    assert verify(connector)[0] == 0


def test_missing_arm_permission_cannot_check_the_vault(connector: Any, cloud: Cloud) -> None:
    cloud.arm_denied = {"Microsoft.KeyVault/vaults/read"}
    code, checks = verify(connector)
    assert code == 1
    assert checks["vault.purge-protection"][:2] == (
        "could-not-check", "403 while reading the vault: the identity running cmkctl may not "
                           "Microsoft.KeyVault/vaults/read")
    assert checks["grant.crypto"][1] == "the vault could not be read (see the vault checks)"


def test_without_vault_id_the_arm_checks_cannot_run(connector: Any) -> None:
    code, checks = verify(connector, vault_id=None)
    assert code == 1
    assert {k for k, v in checks.items() if v[0] == "could-not-check"} == {
        "vault.soft-delete", "vault.purge-protection", "vault.retention", "vault.rbac",
        "vault.firewall", "vault.trusted-services", "vault.lock", "key[cmk].lock",
        "grant.crypto", "grant.no-purge", "grant.least-privilege"}
    assert all(v[0] == "pass" for k, v in checks.items() if k.startswith("key[cmk].")
               and k != "key[cmk].lock")


def test_missing_rotation_policy_is_advisory(connector: Any, cloud: Cloud) -> None:
    """Key Vault answers 200 with its default policy (no id, Notify only) for a key nobody gave
    a policy (azure-sdk-for-python#20416), not 404."""
    vault(cloud).keys[KEY].rotation_policy = None
    code, checks = verify(connector)
    assert (code, not_passing(checks)) == (0, {"key[cmk].rotation-policy": "fail"})
    assert checks["key[cmk].rotation-policy"][1] == (
        "no rotation policy (Azure's default policy only notifies before expiry; nothing "
        "rotates the key)")


def test_key_without_wrap_operations_fails(connector: Any, cloud: Cloud) -> None:
    vault(cloud).keys[KEY].versions[-1].ops = ["sign", "verify"]
    code, checks = verify(connector)
    assert code == 1
    assert checks["key[cmk].operations"][:2] == (
        "fail", "operations: sign, verify; missing unwrapKey, wrapKey")
    assert checks["key[cmk].round-trip"][0] == "could-not-check"


def test_pinned_old_version_is_checked_itself(connector: Any, cloud: Cloud) -> None:
    vault(cloud).keys[KEY].versions[0].enabled = False
    code, checks = verify(connector, key_uri=f"{KEY_URI}/{OLD_VERSION}")
    assert code == 1
    assert checks["key[cmk].enabled"][:2] == (
        "fail", f"version {OLD_VERSION} is disabled: consumers get 403 Forbidden")


def test_unknown_version_fails(connector: Any) -> None:
    code, checks = verify(connector, key_uri=f"{KEY_URI}/{'a' * 32}")
    assert (code, checks["key[cmk].exists"][:2]) == (
        1, ("fail", f"version {'a' * 32} does not exist in key {KEY}"))


def test_a_credential_that_cannot_get_a_token_stops_every_check(cloud: Cloud, server: Any) -> None:
    from azure.identity import CredentialUnavailableError  # noqa: PLC0415

    from cmkctl.live.azure import Azure  # noqa: PLC0415

    class Unavailable:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise CredentialUnavailableError("Please run 'az login' to set up an account")

    def connect(kind: str, target: Any) -> Azure:
        return Azure(Unavailable(), transport=server.transport)  # type: ignore[arg-type]

    code, checks = verify(connect)
    assert code == 1
    assert {v[0] for v in checks.values()} == {"could-not-check"}
    assert checks["vault.purge-protection"][1:] == (
        "the credential could not get a token: Please run 'az login' to set up an account",
        "sign in again (az login, or the variables of the chosen --auth type)")


def test_no_network_stops_at_the_first_host_with_one_line(cloud: Cloud,
                                                         certificate: Any) -> None:
    """Connection refused by the first host: one line, not a NOCHK per check."""
    import socket  # noqa: PLC0415

    from cmkctl.live.azure import Azure  # noqa: PLC0415
    from tests.verify.conftest import StaticCredential  # noqa: PLC0415
    from tests.verify.loopback_tls import LoopbackTransport  # noqa: PLC0415

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    attempts: list[str] = []

    def connect(kind: str, target: Any) -> Azure:
        attempts.append(kind)
        return Azure(StaticCredential(cloud),
                     transport=lambda: LoopbackTransport(closed, str(certificate[0])))

    out, err = io.StringIO(), io.StringIO()
    code = run(Request(stack=None, key_uri=KEY_URI, vault_id=VAULT_ID, format="json"),
               stdout=out, stderr=err, environ=ENV, connector=connect)
    assert (code, out.getvalue()) == (1, "")
    assert err.getvalue() == ("cmkctl verify: cannot reach 127.0.0.1: connection refused; check "
                              "the network, DNS and proxy (HTTPS_PROXY) from this machine\n")
    assert attempts == ["env"]
