"""The storage account encrypts with the customer's key through the federated identity."""

from __future__ import annotations

import pytest

from cmkctl.plan.recorder import Recording
from policies.resource_types import APPLICATION as APP
from policies.resource_types import FEDERATED_CREDENTIAL as FIC
from policies.resource_types import KEY, SLEEP
from policies.resource_types import ROLE_ASSIGNMENT as GRANT
from policies.resource_types import STORAGE_ACCOUNT as ACCOUNT
from policies.resource_types import USER_ASSIGNED_IDENTITY as UAMI
from tests.stacks import run_stack


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run_stack("dev")


def test_account_is_created_with_customer_key_identity_and_safe_defaults(rec: Recording) -> None:
    account = rec.get(ACCOUNT, "storage-account")
    identity = rec.get(UAMI, "provider-identity").id
    app = rec.get(APP, "provider-app").outputs["clientId"]
    assert account.inputs == {
        "accountName": "stcontosocmkdev",
        "resourceGroupName": "rg-saas-contoso-dev",
        "location": "westeurope",
        "kind": "StorageV2",
        "sku": {"name": "Standard_ZRS"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": [identity]},
        "encryption": {
            "keySource": "Microsoft.Keyvault",
            "keyVaultProperties": {
                "keyVaultUri": "https://kv-contoso-cmk-dev.vault.azure.net/",
                "keyName": "cmk-shared",
            },
            "encryptionIdentity": {
                "encryptionUserAssignedIdentity": identity,
                "encryptionFederatedIdentityClientId": app,
            },
            "requireInfrastructureEncryption": True,
            "services": {
                "queue": {"enabled": True, "keyType": "Account"},
                "table": {"enabled": True, "keyType": "Account"},
            },
        },
        "enableHttpsTrafficOnly": True,
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "allowCrossTenantReplication": False,
    }


def test_following_the_latest_version_leaves_the_version_out(rec: Recording) -> None:
    properties = rec.get(ACCOUNT, "storage-account").inputs["encryption"]["keyVaultProperties"]
    assert "keyVersion" not in properties


def test_pinned_binds_the_shared_version() -> None:
    rec = run_stack("dev", keyVersionPolicy="pinned")
    key = rec.get(KEY, "customer-key-cmk-shared")
    version = key.outputs["keyUriWithVersion"].rsplit("/", 1)[1]
    properties = rec.get(ACCOUNT, "storage-account").inputs["encryption"]["keyVaultProperties"]
    assert properties == {
        "keyVaultUri": "https://kv-contoso-cmk-dev.vault.azure.net/",
        "keyName": "cmk-shared",
        "keyVersion": version,
    }


def test_key_comes_from_the_storage_key_of_the_vault() -> None:
    rec = run_stack("dev", storageKeyName="cmk-storage")
    account = rec.get(ACCOUNT, "storage-account")
    assert account.inputs["encryption"]["keyVaultProperties"]["keyName"] == "cmk-storage"
    key = rec.get(KEY, "customer-key-cmk-storage")
    assert key.urn in account.property_dependencies["encryption"]


def test_account_is_created_after_the_trust_the_grant_and_the_wait(rec: Recording) -> None:
    account = rec.get(ACCOUNT, "storage-account")
    grant = rec.get(GRANT, "customer-grant-cmk-shared")
    assert {
        grant.urn,
        rec.get(SLEEP, "grant-propagation").urn,
        rec.get(FIC, "provider-federated-credential").urn,
    } <= set(account.dependencies)
    assert rec.get(GRANT, "customer-grant-cmk-disk").urn not in account.dependencies


def test_provider_stack_binds_the_key_uri_from_config() -> None:
    rec = run_stack("provider", keyVersionPolicy="pinned")
    properties = rec.get(ACCOUNT, "storage-account").inputs["encryption"]["keyVaultProperties"]
    assert properties == {
        "keyVaultUri": "https://kv-contoso-cmk-prod.vault.azure.net/",
        "keyName": "cmk-shared",
        "keyVersion": "e9dbbb07559367c96169bcff3efd2445",
    }
    account = rec.get(ACCOUNT, "storage-account")
    assert rec.by_type(SLEEP) == [] and rec.by_type(GRANT) == []
    assert rec.get(FIC, "provider-federated-credential").urn in account.dependencies


def test_account_is_a_child_of_its_component_on_the_provider_subscription(rec: Recording) -> None:
    account = rec.get(ACCOUNT, "storage-account")
    assert account.parent == rec.get("dedicated-cmk:provider:StorageCmk", "storage").urn
    arm = rec.get("pulumi:providers:azure-native", "provider-arm")
    assert account.provider == f"{arm.urn}::{arm.id}"
    assert rec.stack_outputs["storageAccountId"] == account.id
