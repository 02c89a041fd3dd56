"""The destructive-change classifier: exact findings per destructive class."""

from __future__ import annotations

from typing import Any

import pytest

from cmkctl.review.destructive import Risk, classify, removal
from policies import resource_types as t

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def titles(type_: str, op: str, old: Any = None, new: Any = None,
           **options: Any) -> list[tuple[str | None, str, str]]:
    return [(f.risk, f.title, f.path) for f in classify(type_, op, old, new, **options)]


DATA_LOSS = [t.VAULT, t.KEY, t.STORAGE_ACCOUNT, t.SQL_SERVER, t.SQL_SERVER_KEY,
             t.SQL_ENCRYPTION_PROTECTOR, t.DISK_ENCRYPTION_SET, t.RESOURCE_GROUP,
             "azure-native:keyvault/v20230701:Vault", "azure:keyvault/keyVault:KeyVault",
             "azure:storage/account:Account"]
ACCESS_LOSS = [t.LOCK, t.ROLE_ASSIGNMENT, t.ACCESS_POLICY, t.FEDERATED_CREDENTIAL,
               t.USER_ASSIGNED_IDENTITY, t.APPLICATION, t.SERVICE_PRINCIPAL,
               "azure-native:authorization:ManagementLockAtResourceLevel",
               "azuread:index/applicationRegistration:ApplicationRegistration"]


@pytest.mark.parametrize("type_", DATA_LOSS)
@pytest.mark.parametrize("op", ["delete", "replace", "delete-replaced", "create-replacement"])
def test_removing_key_material_or_an_encrypted_store_is_data_loss(type_: str, op: str) -> None:
    [finding] = classify(type_, op, {}, {})
    assert finding.risk is Risk.DATA_LOSS
    assert finding.title.startswith("replace of " if "replace" in op and op != "delete-replaced"
                                    else "delete of ")
    assert finding.what and finding.safe and finding.path == ""


@pytest.mark.parametrize("type_", ACCESS_LOSS)
@pytest.mark.parametrize("op", ["delete", "replace"])
def test_removing_a_grant_lock_or_identity_is_access_loss(type_: str, op: str) -> None:
    [finding] = classify(type_, op, {}, None)
    assert finding.risk is Risk.ACCESS_LOSS


def test_removal_texts_name_the_kind_and_the_safe_procedure() -> None:
    key = removal(t.KEY, "delete")
    assert key is not None
    assert key.title == "delete of key"
    assert "data plane" in key.what and "90 days" in key.what
    assert "at least 24 hours" in key.safe
    vault = removal(t.VAULT, "replace")
    assert vault is not None and vault.title == "replace of key vault"
    assert vault.what.startswith("A replace creates a new key vault and deletes the old one: ")
    assert "409" in vault.what


@pytest.mark.parametrize("type_", [t.SLEEP, t.SNOWFLAKE_EXECUTE, t.APPLICATION_PASSWORD,
                                   "pulumi:providers:azure-native", "random:index:RandomId"])
def test_other_resources_are_not_destructive(type_: str) -> None:
    assert classify(type_, "delete", {}, None) == []
    assert classify(type_, "replace", {}, {}) == []


@pytest.mark.parametrize("op", ["create", "same", "read", "import", "refresh", "discard"])
def test_steps_that_change_nothing_in_azure_have_no_findings(op: str) -> None:
    assert classify(t.VAULT, op, {}, {}) == []


def vault(**properties: Any) -> dict[str, Any]:
    return {"properties": properties}


DENY = {"defaultAction": "Deny", "bypass": "AzureServices"}


def test_permission_model_switch_either_way_and_omitted_reads_as_access_policies() -> None:
    assert titles(t.VAULT, "update", vault(networkAcls=DENY),
                  vault(networkAcls=DENY, enableRbacAuthorization=True)) == [
        (Risk.ACCESS_LOSS, "permission model switch", "properties.enableRbacAuthorization")]
    [finding] = classify(t.VAULT, "update", vault(networkAcls=DENY, enableRbacAuthorization=True),
                         vault(networkAcls=DENY))
    assert "switches the vault to access policies" in finding.what
    assert titles(t.VAULT, "update", vault(networkAcls=DENY),
                  vault(networkAcls=DENY, enableRbacAuthorization=False)) == []


def test_firewall_bypass_removed_and_vault_opened() -> None:
    assert titles(t.VAULT, "update", vault(networkAcls=DENY),
                  vault(networkAcls={"defaultAction": "Deny", "bypass": "None"})) == [
        (Risk.ACCESS_LOSS, "trusted-services bypass removed", "properties.networkAcls.bypass")]
    assert titles(t.VAULT, "update", vault(networkAcls=DENY),
                  vault(networkAcls={"defaultAction": "Allow", "bypass": "AzureServices"})) == [
        (Risk.WEAKENING, "vault firewall opened", "properties.networkAcls.defaultAction")]
    # Omitting the firewall opens the vault (ARM default Allow); disabling public access does not.
    assert [f[1] for f in titles(t.VAULT, "update", vault(networkAcls=DENY), vault())] == [
        "vault firewall opened"]
    assert titles(t.VAULT, "update", vault(networkAcls=DENY),
                  vault(publicNetworkAccess="Disabled")) == []
    assert [f[1] for f in titles(t.VAULT, "update", vault(publicNetworkAccess="disabled"),
                                 vault(publicNetworkAccess="Enabled"))] == ["vault firewall opened"]


def test_inline_access_policy_losing_unwrap_key_or_removed() -> None:
    entry = {"tenantId": "T", "objectId": "O1",
             "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]}}
    narrowed = {**entry, "permissions": {"keys": ["get", "wrapKey"]}}
    [finding] = classify(t.VAULT, "update", vault(networkAcls=DENY, accessPolicies=[entry]),
                         vault(networkAcls=DENY, accessPolicies=[narrowed]))
    assert (finding.title, finding.path) == ("access policy narrowed", "properties.accessPolicies")
    assert "object o1 loses keys permission(s) unwrapkey" in finding.what
    [gone] = classify(t.VAULT, "update", vault(networkAcls=DENY, accessPolicies=[entry]),
                      vault(networkAcls=DENY, accessPolicies=[]))
    assert "get, unwrapkey, wrapkey" in gone.what
    assert classify(t.ACCESS_POLICY, "update", {"policy": entry}, {"policy": narrowed})[0].path \
        == "policy"


def test_binding_moved_to_another_key_or_vault_is_access_loss() -> None:
    base = "https://kv.vault.azure.net/keys/cmk/"
    old = {"activeKey": {"keyUrl": base + "a" * 32}, "federatedClientId": "app"}
    other_key = "https://kv.vault.azure.net/keys/cmk2/" + "b" * 32
    other_vault = "https://kv2.vault.azure.net/keys/cmk/" + "a" * 32
    for url in (other_key, other_vault):
        assert titles(t.DISK_ENCRYPTION_SET, "update", old,
                      {**old, "activeKey": {"keyUrl": url}}) == [
            (Risk.ACCESS_LOSS, "binding key change", "activeKey.keyUrl")]
    # A version known only after apply may be another key: not judged as a rotation.
    assert titles(t.SQL_SERVER, "update", {"keyId": base + "a" * 32},
                  {"keyId": UNKNOWN}) == [(Risk.ACCESS_LOSS, "binding key change", "keyId")]
    storage = {"encryption": {"keyVaultProperties": {"keyName": "cmk", "keyVaultUri": base}}}
    moved = {"encryption": {"keyVaultProperties": {"keyName": "cmk2", "keyVaultUri": base}}}
    assert titles(t.STORAGE_ACCOUNT, "update", storage, moved) == [
        (Risk.ACCESS_LOSS, "binding key change", "encryption.keyVaultProperties.keyName")]
    [finding] = classify(t.SQL_ENCRYPTION_PROTECTOR, "update", {"serverKeyName": "kv_cmk_a"},
                         {"serverKeyName": "kv_cmk2_b"})
    assert finding.risk is Risk.ACCESS_LOSS
    assert "from 'kv_cmk_a' to 'kv_cmk2_b'" in finding.what
    assert "at least 24 hours" in finding.safe
    assert classify(t.DISK_ENCRYPTION_SET, "update", old, {**old, "tags": {"a": "b"}}) == []


def test_a_new_version_of_the_same_key_is_a_rotation_notice_with_the_24_hour_rule() -> None:
    base = "https://kv.vault.azure.net/keys/cmk/"
    old = {"activeKey": {"keyUrl": base + "a" * 32}, "federatedClientId": "app"}
    [finding] = classify(t.DISK_ENCRYPTION_SET, "update", old,
                         {**old, "activeKey": {"keyUrl": "https://KV.vault.azure.net/keys/CMK/"
                                               + "b" * 32}})
    assert (finding.risk, finding.title, finding.path) == (
        None, "key version rotation", "activeKey.keyUrl")
    assert finding.safe.startswith("Keep the previous key version enabled for at least 24 hours")
    assert titles(t.SQL_SERVER, "update", {"keyId": base + "a" * 32},
                  {"keyId": base + "b" * 32}) == [(None, "key version rotation", "keyId")]
    assert titles(t.SQL_ENCRYPTION_PROTECTOR, "update", {"serverKeyName": "kv_cmk_a"},
                  {"serverKeyName": "kv_cmk_b"}) == [
        (None, "key version rotation", "serverKeyName")]
    storage = {"encryption": {"keyVaultProperties": {"keyName": "cmk", "keyVaultUri": base,
                                                     "keyVersion": "a"}}}
    rotated = {"encryption": {"keyVaultProperties": {"keyName": "cmk", "keyVaultUri": base,
                                                     "keyVersion": "b"}}}
    assert titles(t.STORAGE_ACCOUNT, "update", storage, rotated) == [
        (None, "key version rotation", "encryption.keyVaultProperties.keyVersion")]


@pytest.mark.parametrize("type_", [t.FEDERATED_CREDENTIAL, t.IDENTITY_FEDERATED_CREDENTIAL])
@pytest.mark.parametrize("path,before,after", [
    ("issuer", "https://login.microsoftonline.com/T1/v2.0",
     "https://login.microsoftonline.com/T2/v2.0"),
    ("subject", "principal-1", "principal-2"),
    ("audiences", ["api://AzureADTokenExchange"], ["api://other"]),
])
def test_federated_credential_claims_changed_in_place_are_access_loss(
        type_: str, path: str, before: Any, after: Any) -> None:
    old = {"issuer": "https://login.microsoftonline.com/T1/v2.0", "subject": "principal-1",
           "audiences": ["api://AzureADTokenExchange"], "displayName": "cmk"}
    [finding] = classify(type_, "update", {**old, path: before}, {**old, path: after})
    assert (finding.risk, finding.title, finding.path) == (
        Risk.ACCESS_LOSS, "federated credential claims change", path)
    assert "updates the credential in place" in finding.what
    assert classify(type_, "update", old, {**old, "description": "x"}) == []


def test_retained_resources_are_kept_in_azure_and_protected_ones_say_up_refuses() -> None:
    [kept] = classify(t.APPLICATION, "delete", {}, None, retained=True)
    assert (kept.risk, kept.title) == (None, "delete of application kept in Azure")
    assert kept.what.startswith("removed from the stack, kept in Azure")
    [replaced] = classify(t.KEY, "replace", {}, {}, retained=True)
    assert (replaced.risk, replaced.destructive) == (None, False)
    [refused] = classify(t.VAULT, "delete", {}, None, protect=(True, True))
    assert refused.risk is Risk.DATA_LOSS
    assert refused.what.endswith("`pulumi up` refuses this until the resource is unprotected.")


def test_weakening_protection_removed_and_retention_shortened() -> None:
    assert titles(t.KEY, "update", {}, {}, protect=(True, False)) == [
        (Risk.WEAKENING, "protection removed", "(protect)")]
    assert titles(t.SLEEP, "update", {}, {}, protect=(True, False)) == []
    assert titles(t.VAULT, "update", vault(networkAcls=DENY, softDeleteRetentionInDays=90),
                  vault(networkAcls=DENY, softDeleteRetentionInDays=7)) == [
        (Risk.WEAKENING, "soft-delete retention shortened",
         "properties.softDeleteRetentionInDays")]
    # Omitted means the ARM default of 90 days.
    assert titles(t.VAULT, "update", vault(networkAcls=DENY),
                  vault(networkAcls=DENY, softDeleteRetentionInDays=30))[0][1] == (
        "soft-delete retention shortened")


def test_binding_identity_change_is_access_loss() -> None:
    assert titles(t.SQL_SERVER, "update", {"federatedClientId": "app-1"},
                  {"federatedClientId": "app-2"}) == [
        (Risk.ACCESS_LOSS, "binding identity change", "federatedClientId")]


def test_role_change_on_a_grant_is_access_loss() -> None:
    assert titles(t.ROLE_ASSIGNMENT, "update", {"roleDefinitionId": "/r/1"},
                  {"roleDefinitionId": "/r/2"}) == [
        (Risk.ACCESS_LOSS, "grant role change", "roleDefinitionId")]


@pytest.mark.parametrize("path, old, new", [
    ("properties.keySize", {"keySize": 2048}, {"keySize": 3072}),
    ("properties.kty", {"kty": "RSA"}, {"kty": "RSA-HSM"}),
    ("properties.keyOps", {"keyOps": ["wrapKey", "unwrapKey"]}, {"keyOps": ["wrapKey"]}),
    ("properties.attributes", {"attributes": {"exp": 1}}, {"attributes": {"exp": 2}}),
    ("properties.rotationPolicy", {}, {"rotationPolicy": {"lifetimeActions": []}}),
])
def test_key_property_changes_are_a_notice_that_azure_will_not_apply(
        path: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    [finding] = classify(t.KEY, "update", {"properties": old}, {"properties": new})
    assert finding.risk is None and finding.path == path
    assert "Keys_CreateIfNotExist returns an existing key unchanged" in finding.what
    assert "new name" in finding.safe


def test_vault_region_change_is_a_notice_that_the_update_fails() -> None:
    [finding] = classify(t.VAULT, "update", {"location": "westeurope", **vault(networkAcls=DENY)},
                         {"location": "northeurope", **vault(networkAcls=DENY)})
    assert (finding.risk, finding.title, finding.path) == (
        None, "vault region change that Azure will refuse", "location")
    assert "from 'westeurope' to 'northeurope'" in finding.what


def test_snowflake_registration_of_another_key_is_access_loss_on_replace() -> None:
    old = {"execute": "SELECT SYSTEM$REGISTER_CMK_INFO('https://kv.vault.azure.net/', 'k1')"}
    new = {"execute": "SELECT SYSTEM$REGISTER_CMK_INFO('https://kv.vault.azure.net/', 'k2')"}
    assert titles(t.SNOWFLAKE_EXECUTE, "replace", old, new) == [
        (Risk.ACCESS_LOSS, "Snowflake Tri-Secret Secure key change", "execute")]
    query = {"execute": "SELECT SYSTEM$GET_CMK_CONFIG('t1')"}
    assert classify(t.SNOWFLAKE_EXECUTE, "replace", query,
                    {"execute": "SELECT SYSTEM$GET_CMK_CONFIG('t2')"}) == []


def test_a_replace_also_reports_what_its_property_changes_do() -> None:
    base = "https://kv.vault.azure.net/keys/cmk/"
    assert titles(t.SQL_SERVER, "replace", {"keyId": base + "a" * 32, "serverName": "s"},
                  {"keyId": base + "b" * 32, "serverName": "s2"}) == [
        (Risk.DATA_LOSS, "replace of SQL server", ""),
        (None, "key version rotation", "keyId")]
