"""The destructive-change classifier: exact findings per destructive class."""

from __future__ import annotations

from typing import Any

import pytest

from cmkctl.review.destructive import Risk, classify, removal
from policies import resource_types as t

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def titles(type_: str, op: str, old: Any = None, new: Any = None) -> list[tuple[str | None, str,
                                                                              str]]:
    return [(f.risk, f.title, f.path) for f in classify(type_, op, old, new)]


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
        (Risk.ACCESS_LOSS, "vault firewall opened", "properties.networkAcls.defaultAction")]
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


def test_binding_key_and_key_version_changes_are_access_loss() -> None:
    base = "https://kv.vault.azure.net/keys/cmk/"
    old = {"activeKey": {"keyUrl": base + "a" * 32}, "federatedClientId": "app"}
    assert titles(t.DISK_ENCRYPTION_SET, "update", old,
                  {**old, "activeKey": {"keyUrl": base + "b" * 32}}) == [
        (Risk.ACCESS_LOSS, "binding key change", "activeKey.keyUrl")]
    assert titles(t.SQL_SERVER, "update", {"keyId": base + "a" * 32},
                  {"keyId": UNKNOWN}) == [(Risk.ACCESS_LOSS, "binding key change", "keyId")]
    storage = {"encryption": {"keyVaultProperties": {"keyName": "cmk", "keyVaultUri": base}}}
    moved = {"encryption": {"keyVaultProperties": {"keyName": "cmk2", "keyVaultUri": base}}}
    assert titles(t.STORAGE_ACCOUNT, "update", storage, moved) == [
        (Risk.ACCESS_LOSS, "binding key change", "encryption.keyVaultProperties.keyName")]
    [finding] = classify(t.SQL_ENCRYPTION_PROTECTOR, "update", {"serverKeyName": "kv_cmk_a"},
                         {"serverKeyName": "kv_cmk_b"})
    assert "from 'kv_cmk_a' to 'kv_cmk_b'" in finding.what
    assert "at least 24 hours" in finding.safe
    assert classify(t.DISK_ENCRYPTION_SET, "update", old, {**old, "tags": {"a": "b"}}) == []


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
        (Risk.ACCESS_LOSS, "binding key change", "keyId")]
