"""The customer tenant's resources get exactly the guarded settings the prerequisites ask for."""

from __future__ import annotations

import re

import pytest

from cmkctl.plan.recorder import Recording
from components.customer.vault import CRYPTO_SERVICE_ENCRYPTION_USER
from policies.resource_types import KEY, LOCK, VAULT
from policies.resource_types import ROLE_ASSIGNMENT as GRANT
from policies.resource_types import SERVICE_PRINCIPAL as SP
from tests.stacks import run_stack

APP = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
SUB = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
TENANT = "8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21"
VERSIONED = re.compile(r"^https://kv-contoso-cmk-dev\.vault\.azure\.net/keys/[a-z-]+/[0-9a-f]{32}$")


def customer(**overrides: str | None) -> Recording:
    return run_stack("dev", mode="customer", providerAppClientId=APP, **overrides)


@pytest.fixture(scope="module")
def rec() -> Recording:
    return customer()


def test_vault_has_soft_delete_purge_protection_rbac_and_a_closed_firewall(rec: Recording) -> None:
    vault = rec.get(VAULT, "customer-vault")
    assert vault.inputs["vaultName"] == "kv-contoso-cmk-dev"
    assert vault.inputs["resourceGroupName"] == "rg-contoso-cmk-dev"
    assert vault.inputs["location"] == "westeurope"
    assert vault.inputs["properties"] == {
        "tenantId": TENANT,
        "sku": {"family": "A", "name": "standard"},
        "enableSoftDelete": True,
        "enablePurgeProtection": True,
        "softDeleteRetentionInDays": 90,
        "enableRbacAuthorization": True,
        "accessPolicies": [],
        "publicNetworkAccess": "Enabled",
        "networkAcls": {
            "defaultAction": "Deny",
            "bypass": "AzureServices",
            "ipRules": [{"value": "203.0.113.0/24"}],
            "virtualNetworkRules": [],
        },
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
    }


def test_purge_protection_is_never_sent_false_in_any_mode() -> None:
    for overrides in (
        {},
        {"vaultPermissionModel": "accessPolicy"},
        {"protectKeyMaterial": "false"},
    ):
        vault = customer(**overrides).get(VAULT, "customer-vault")
        assert vault.inputs["properties"]["enablePurgeProtection"] is True


def test_keys_are_rsa_2048_wrap_unwrap_with_rotation_and_expiry(rec: Recording) -> None:
    keys = {k.inputs["keyName"]: k for k in rec.by_type(KEY)}
    assert sorted(keys) == ["cmk-disk", "cmk-shared"]
    shared = keys["cmk-shared"]
    assert shared.inputs["vaultName"] == "kv-contoso-cmk-dev"
    assert shared.inputs["properties"] == {
        "kty": "RSA",
        "keySize": 2048,
        "keyOps": ["wrapKey", "unwrapKey"],
        "attributes": {
            "enabled": True,
            "exportable": False,
            "expires": 1859155200,
        },  # 2028-11-30T00:00:00Z
        "rotationPolicy": {
            "attributes": {"expiryTime": "P730D"},
            "lifetimeActions": [
                {"trigger": {"timeAfterCreate": "P180D"}, "action": {"type": "rotate"}},
                {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "notify"}},
            ],
        },
    }


def test_rotation_settings_come_from_config() -> None:
    key = customer(
        keyRotateAfterDays="90",
        keyExpiryDays="365",
        keyNotifyBeforeExpiryDays="14",
        keyExpiresOn=None,
        keySize="3072",
        allowKeySizeBeyondPrerequisite="true",
        services='["storage", "sql", "disk"]',
    ).get(KEY, "customer-key-cmk-shared")
    props = key.inputs["properties"]
    assert props["keySize"] == 3072
    assert props["attributes"] == {"enabled": True, "exportable": False}
    assert props["rotationPolicy"]["attributes"] == {"expiryTime": "P365D"}
    assert [a["trigger"] for a in props["rotationPolicy"]["lifetimeActions"]] == [
        {"timeAfterCreate": "P90D"},
        {"timeBeforeExpiry": "P14D"},
    ]


def test_vault_and_every_key_have_a_cannot_delete_lock(rec: Recording) -> None:
    vault = rec.get(VAULT, "customer-vault")
    scopes = {lock.inputs["scope"]: lock for lock in rec.by_type(LOCK)}
    targets = [vault, *rec.by_type(KEY)]
    assert sorted(scopes) == sorted(t.id for t in targets)
    for lock in scopes.values():
        assert lock.inputs["level"] == "CanNotDelete"
        assert lock.inputs["lockName"] == "cmk-do-not-delete"


def test_grant_is_crypto_service_encryption_user_on_each_key_for_the_app(rec: Recording) -> None:
    principal = rec.get(SP, "customer-provider-sp")
    assert principal.inputs == {"clientId": APP, "useExisting": True}
    grants = rec.by_type(GRANT)
    assert sorted(g.inputs["scope"] for g in grants) == sorted(k.id for k in rec.by_type(KEY))
    for grant in grants:
        assert grant.inputs["principalId"] == principal.outputs["objectId"]
        assert grant.inputs["principalType"] == "ServicePrincipal"
        assert grant.inputs["roleDefinitionId"] == (
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
            f"{CRYPTO_SERVICE_ENCRYPTION_USER}"
        )


def test_access_policy_mode_grants_get_wrap_unwrap_only_and_no_role() -> None:
    rec = customer(vaultPermissionModel="accessPolicy")
    principal = rec.get(SP, "customer-provider-sp")
    props = rec.get(VAULT, "customer-vault").inputs["properties"]
    assert props["enableRbacAuthorization"] is False
    assert props["accessPolicies"] == [
        {
            "tenantId": TENANT,
            "objectId": principal.outputs["objectId"],
            "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]},
        }
    ]
    assert rec.by_type(GRANT) == []


def test_key_material_and_its_guards_are_protected(rec: Recording) -> None:
    guarded = [VAULT, KEY, LOCK, GRANT, "azure-native:resources:ResourceGroup"]
    for type_ in guarded:
        assert rec.by_type(type_), type_
        assert all(r.protect for r in rec.by_type(type_)), type_
    principal = rec.get(SP, "customer-provider-sp")
    assert principal.retain_on_delete and not principal.protect


def test_protection_can_be_turned_off_explicitly() -> None:
    rec = customer(protectKeyMaterial="false")
    assert not any(r.protect for r in rec.resources)


def test_children_are_parented_to_the_component_and_use_customer_providers(rec: Recording) -> None:
    component = rec.get("dedicated-cmk:customer:KeyVault", "customer")
    arm = rec.get("pulumi:providers:azure-native", "customer-arm")
    graph = rec.get("pulumi:providers:azuread", "customer-graph")
    assert arm.inputs["tenantId"] == TENANT and arm.inputs["subscriptionId"] == SUB
    assert graph.inputs["tenantId"] == TENANT
    children = [r for r in rec.resources if r.custom and not r.type.startswith("pulumi:providers")]
    assert children
    for child in children:
        assert child.parent == component.urn, child.name
        expected = graph if child.type.startswith("azuread:") else arm
        assert child.provider == f"{expected.urn}::{expected.id}", child.name


def test_existing_resource_group_is_read_not_created() -> None:
    rec = customer(customerResourceGroupExisting="true")
    group = rec.get("azure-native:resources:ResourceGroup", "customer-rg")
    expected_id = f"/subscriptions/{SUB}/resourceGroups/rg-contoso-cmk-dev"
    assert (group.read, group.id) == (True, expected_id)
    assert rec.get(VAULT, "customer-vault").inputs["resourceGroupName"] == "rg-contoso-cmk-dev"


def test_network_settings_come_from_config() -> None:
    subnet = (
        "/subscriptions/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/resourceGroups/net/providers/"
        "Microsoft.Network/virtualNetworks/vnet/subnets/kv"
    )
    props = (
        customer(
            vaultPublicNetworkAccess="Enabled", vaultIpRules=None, vaultSubnetIds=f'["{subnet}"]'
        )
        .get(VAULT, "customer-vault")
        .inputs["properties"]
    )
    assert props["publicNetworkAccess"] == "Enabled"
    assert props["networkAcls"] == {
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "ipRules": [],
        "virtualNetworkRules": [{"id": subnet}],
    }


def test_outputs_have_the_documented_forms(rec: Recording) -> None:
    out = rec.stack_outputs
    assert out["vaultId"] == (
        f"/subscriptions/{SUB}/resourceGroups/rg-contoso-cmk-dev/providers/"
        "Microsoft.KeyVault/vaults/kv-contoso-cmk-dev"
    )
    assert out["vaultUri"] == "https://kv-contoso-cmk-dev.vault.azure.net/"
    assert "snowflakeKeyUri" not in out  # no Snowflake account: no Snowflake key
    for service in ("storage", "sql", "disk"):
        assert VERSIONED.match(out[f"{service}KeyUri"]), service
        assert out[f"{service}KeyUri"].startswith(out[f"{service}KeyUriVersionless"] + "/")
    assert (
        out["diskKeyUriVersionless"] == "https://kv-contoso-cmk-dev.vault.azure.net/keys/cmk-disk"
    )
    assert out["storageKeyUriVersionless"] == (
        "https://kv-contoso-cmk-dev.vault.azure.net/keys/cmk-shared"
    )
    assert out["keyIds"] == {k.inputs["keyName"]: k.id for k in rec.by_type(KEY)}
