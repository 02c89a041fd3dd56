"""The two tenants wired together: order, waits, explicit providers and what each side exports."""

from __future__ import annotations

import re
from typing import ClassVar

import pulumi
import pytest

from cmkctl.plan.recorder import Recording
from components.customer.vault import CRYPTO_SERVICE_ENCRYPTION_USER
from policies.resource_types import APPLICATION as APP
from policies.resource_types import DISK_ENCRYPTION_SET as DES
from policies.resource_types import KEY, SLEEP, VAULT
from policies.resource_types import ROLE_ASSIGNMENT as GRANT
from policies.resource_types import SERVICE_PRINCIPAL as SP
from policies.resource_types import SQL_SERVER_KEY as SERVER_KEY
from policies.resource_types import STORAGE_ACCOUNT as ACCOUNT
from tests.stacks import run_stack

BINDINGS = ((ACCOUNT, "storage-account"), (SERVER_KEY, "sql-key"), (DES, "disk-encryption-set"))
PROVIDER_TENANT = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
CUSTOMER_TENANT = "8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21"
PROVIDER_APP = "c45b22b2-5909-57d0-ade6-1d1077d849f9"


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run_stack("dev")


def test_customer_installs_the_app_this_stack_creates(rec: Recording) -> None:
    app = rec.get(APP, "provider-app")
    principal = rec.get(SP, "customer-provider-sp")
    assert principal.inputs["clientId"] == app.outputs["clientId"]
    assert principal.property_dependencies["clientId"] == [app.urn]


def test_one_wait_follows_every_grant_a_binding_uses(rec: Recording) -> None:
    sleep = rec.get(SLEEP, "grant-propagation")
    grants = {g.name: g for g in rec.by_type(GRANT)}
    assert sorted(grants) == ["customer-grant-cmk-disk", "customer-grant-cmk-shared"]
    assert sleep.inputs == {
        "createDuration": "120s",
        "triggers": {
            "cmk-shared": grants["customer-grant-cmk-shared"].id,
            "cmk-disk": grants["customer-grant-cmk-disk"].id,
        },
    }
    assert set(sleep.dependencies) == {g.urn for g in grants.values()}
    for type_, name in BINDINGS:
        assert sleep.urn in rec.get(type_, name).dependencies, name


def test_wait_length_comes_from_config() -> None:
    assert (
        run_stack("dev", rolePropagationSeconds="300")
        .get(SLEEP, "grant-propagation")
        .inputs["createDuration"]
        == "300s"
    )


def test_no_wait_still_orders_bindings_after_their_grants() -> None:
    rec = run_stack("dev", rolePropagationSeconds="0")
    assert rec.by_type(SLEEP) == []
    assert (
        rec.get(GRANT, "customer-grant-cmk-shared").urn
        in rec.get(ACCOUNT, "storage-account").dependencies
    )
    assert (
        rec.get(GRANT, "customer-grant-cmk-disk").urn
        in rec.get(DES, "disk-encryption-set").dependencies
    )


def test_access_policy_vault_is_the_grant_bindings_wait_for() -> None:
    rec = run_stack("dev", vaultPermissionModel="accessPolicy")
    vault = rec.get(VAULT, "customer-vault")
    sleep = rec.get(SLEEP, "grant-propagation")
    assert rec.by_type(GRANT) == []
    assert sleep.dependencies == [vault.urn]
    assert sleep.inputs["triggers"] == {"cmk-shared": vault.id, "cmk-disk": vault.id}
    for type_, name in BINDINGS:
        assert {vault.urn, sleep.urn} <= set(rec.get(type_, name).dependencies), name


def test_each_side_uses_its_own_tenant_providers(rec: Recording) -> None:
    providers = {r.urn: r for r in rec.resources if r.type.startswith("pulumi:providers:")}
    tenants = {f"{p.urn}::{p.id}": p.inputs["tenantId"] for p in providers.values()}
    for resource in rec.resources:
        if (
            not resource.custom
            or resource.type.startswith("pulumi:providers:")
            or resource.type == SLEEP
        ):
            continue
        side = resource.parent.rsplit("::", 1)[1]
        expected = CUSTOMER_TENANT if side == "customer" else PROVIDER_TENANT
        assert tenants[resource.provider] == expected, resource.name


def test_customer_grant_export_says_who_which_role_and_on_which_keys(rec: Recording) -> None:
    keys = {k.inputs["keyName"]: k.id for k in rec.by_type(KEY)}
    client_id = rec.get(APP, "provider-app").outputs["clientId"]
    assert rec.stack_outputs["customerGrant"] == {
        "principal": {
            "appClientId": client_id,
            "type": "ServicePrincipal",
            "install": f"az ad sp create --id {client_id}",
        },
        "role": {
            "name": "Key Vault Crypto Service Encryption User",
            "id": CRYPTO_SERVICE_ENCRYPTION_USER,
        },
        "accessPolicyAlternative": {"keys": ["get", "wrapKey", "unwrapKey"]},
        "scopes": {
            "storage": keys["cmk-shared"],
            "sql": keys["cmk-shared"],
            "disk": keys["cmk-disk"],
        },
    }


def test_both_mode_exports_what_each_party_needs(rec: Recording) -> None:
    assert set(rec.stack_outputs) == {
        "mode",
        "vaultLocation",
        "vaultId",
        "vaultUri",
        "providerServicePrincipalObjectId",
        "keyIds",
        *(
            f"{s}KeyUri{v}"
            for s in ("storage", "sql", "disk")
            for v in ("", "Versionless")
        ),
        "providerAppClientId",
        "providerIdentityId",
        "customerGrant",
        "storageAccountId",
        "sqlServerId",
        "diskEncryptionSetId",
    }


def test_customer_stack_creates_no_provider_resources_and_exports_key_uris() -> None:
    rec = run_stack("customer")
    assert not [
        r
        for r in rec.resources
        if r.name.startswith(("provider", "storage", "sql", "disk", "grant"))
    ]
    assert rec.get(SP, "customer-provider-sp").inputs["clientId"] == PROVIDER_APP
    assert rec.stack_outputs["sqlKeyUri"] == (
        "https://kv-contoso-cmk-prod.vault.azure.net/keys/cmk-shared/"
        "e9dbbb07559367c96169bcff3efd2445"
    )
    assert "providerAppClientId" not in rec.stack_outputs


def test_provider_stack_binds_shared_uris_without_customer_resources() -> None:
    rec = run_stack("provider")
    assert not [r for r in rec.resources if r.name.startswith(("customer", "grant"))]
    assert rec.stack_outputs["providerAppClientId"] == PROVIDER_APP
    assert rec.stack_outputs["customerGrant"]["scopes"] == {
        "storage": "https://kv-contoso-cmk-prod.vault.azure.net/keys/cmk-shared",
        "sql": "https://kv-contoso-cmk-prod.vault.azure.net/keys/cmk-shared",
        "disk": "https://kv-contoso-cmk-prod.vault.azure.net/keys/cmk-disk",
    }


def test_provider_stack_before_the_key_exists_creates_only_the_identity() -> None:
    rec = run_stack(
        "provider",
        storageAccountName=None,
        sqlServerName=None,
        diskEncryptionSetName=None,
        storageKeyUri=None,
        sqlKeyUri=None,
        diskKeyUri=None,
        vaultLocation=None,
    )
    assert sorted(r.type for r in rec.resources if r.custom) == sorted(
        [
            "pulumi:providers:azure-native",
            "pulumi:providers:azuread",
            "azure-native:resources:ResourceGroup",
            "azure-native:managedidentity:UserAssignedIdentity",
            APP,
            "azuread:index/applicationFederatedIdentityCredential:"
            "ApplicationFederatedIdentityCredential",
        ]
    )
    assert rec.stack_outputs["customerGrant"]["scopes"] == {}
    assert rec.stack_outputs["providerAppClientId"] == PROVIDER_APP


@pytest.mark.parametrize("stack", ["dev", "customer", "provider"])
def test_example_stack_is_valid_and_records(stack: str) -> None:
    rec = run_stack(stack)
    assert rec.stack_outputs["mode"] == {"dev": "both"}.get(stack, stack)
    assert rec.resources


class _Reference:
    """Stands in for ``pulumi.StackReference`` with outputs a test chooses (the recorder
    itself resolves references only from local stack files)."""

    chosen: ClassVar[dict[str, dict[str, object]]] = {}

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def outputs(self) -> pulumi.Output[dict[str, object]]:
        return pulumi.Output.from_input(self.chosen[self.name])


@pytest.fixture
def references(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, object]]:
    outputs: dict[str, dict[str, object]] = {}
    monkeypatch.setattr(_Reference, "chosen", outputs)
    monkeypatch.setattr(pulumi, "StackReference", _Reference)
    return outputs


def test_provider_stack_reads_key_uris_from_the_customer_stack(
    references: dict[str, dict[str, object]],
) -> None:
    customer = run_stack("customer")
    references["acme/dedicated-cmk/customer"] = customer.stack_outputs
    rec = run_stack(
        "provider",
        storageKeyUri=None,
        sqlKeyUri=None,
        diskKeyUri=None,
        customerStack="acme/dedicated-cmk/customer",
    )
    assert rec.get(SERVER_KEY, "sql-key").inputs["uri"] == customer.stack_outputs["sqlKeyUri"]
    assert rec.get(DES, "disk-encryption-set").inputs["activeKey"] == {
        "keyUrl": customer.stack_outputs["diskKeyUri"]
    }
    assert (
        rec.stack_outputs["customerGrant"]["scopes"]["disk"]
        == (customer.stack_outputs["diskKeyUriVersionless"])
    )


def test_a_versionless_sql_uri_from_the_customer_stack_is_refused_by_name(
    references: dict[str, dict[str, object]],
) -> None:
    references["acme/dedicated-cmk/customer"] = {
        "storageKeyUri": "https://kv-a.vault.azure.net/keys/k",
        "sqlKeyUri": "https://kv-a.vault.azure.net/keys/k",
        "diskKeyUri": f"https://kv-a.vault.azure.net/keys/k/{'b' * 32}",
        "vaultLocation": "westeurope",
    }
    with pytest.raises(
        Exception,
        match=re.escape(
            "customerStack acme/dedicated-cmk/customer output sqlKeyUri: "
            "https://kv-a.vault.azure.net/keys/k has no version; server keys are named"
        ),
    ):
        run_stack(
            "provider",
            storageKeyUri=None,
            sqlKeyUri=None,
            diskKeyUri=None,
            customerStack="acme/dedicated-cmk/customer",
        )


def test_customer_stack_reads_the_app_from_the_provider_stack(
    references: dict[str, dict[str, object]],
) -> None:
    references["acme/dedicated-cmk/provider"] = run_stack("provider").stack_outputs
    rec = run_stack(
        "customer", providerAppClientId=None, providerStack="acme/dedicated-cmk/provider"
    )
    assert rec.get(SP, "customer-provider-sp").inputs["clientId"] == PROVIDER_APP
