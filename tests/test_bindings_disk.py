"""The disk encryption set uses the customer's versioned key, in the vault's region."""

from __future__ import annotations

import pytest

from cmkctl.plan.recorder import Recording
from policies.resource_types import APPLICATION as APP
from policies.resource_types import DISK_ENCRYPTION_SET as DES
from policies.resource_types import FEDERATED_CREDENTIAL as FIC
from policies.resource_types import KEY, SLEEP
from policies.resource_types import ROLE_ASSIGNMENT as GRANT
from policies.resource_types import USER_ASSIGNED_IDENTITY as UAMI
from tests.stacks import run_stack


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run_stack("dev")


def test_set_uses_the_versioned_disk_key_and_rotates_to_new_versions(rec: Recording) -> None:
    identity = rec.get(UAMI, "provider-identity").id
    key = rec.get(KEY, "customer-key-cmk-disk")
    encryption_set = rec.get(DES, "disk-encryption-set")
    assert encryption_set.inputs == {
        "diskEncryptionSetName": "des-contoso-cmk-dev",
        "resourceGroupName": "rg-saas-contoso-dev",
        "location": "westeurope",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": [identity]},
        "encryptionType": "EncryptionAtRestWithCustomerKey",
        "activeKey": {"keyUrl": key.outputs["keyUriWithVersion"]},
        "federatedClientId": rec.get(APP, "provider-app").outputs["clientId"],
        "rotationToLatestKeyVersionEnabled": True,
    }
    assert encryption_set.property_dependencies["activeKey"] == [key.urn]


def test_pinned_set_keeps_its_version() -> None:
    encryption_set = run_stack("dev", keyVersionPolicy="pinned").get(DES, "disk-encryption-set")
    assert encryption_set.inputs["rotationToLatestKeyVersionEnabled"] is False


def test_double_encryption_is_configurable() -> None:
    encryption_set = run_stack(
        "dev",
        diskEncryptionType="EncryptionAtRestWithPlatformAndCustomerKeys",
    ).get(DES, "disk-encryption-set")
    assert encryption_set.inputs["encryptionType"] == "EncryptionAtRestWithPlatformAndCustomerKeys"


def test_source_vault_is_never_sent_across_tenants(rec: Recording) -> None:
    assert set(rec.get(DES, "disk-encryption-set").inputs["activeKey"]) == {"keyUrl"}


def test_set_waits_for_its_own_key_grant(rec: Recording) -> None:
    dependencies = set(rec.get(DES, "disk-encryption-set").dependencies)
    assert {
        rec.get(GRANT, "customer-grant-cmk-disk").urn,
        rec.get(SLEEP, "grant-propagation").urn,
        rec.get(FIC, "provider-federated-credential").urn,
    } <= dependencies
    assert rec.get(GRANT, "customer-grant-cmk-shared").urn not in dependencies


def test_provider_stack_takes_the_disk_key_uri_from_config() -> None:
    encryption_set = run_stack("provider").get(DES, "disk-encryption-set")
    assert encryption_set.inputs["activeKey"] == {
        "keyUrl": "https://kv-contoso-cmk-prod.vault.azure.net/keys/cmk-disk/"
        "3a4f6d0d595304c0615709e508bb741e"
    }
    assert encryption_set.inputs["location"] == "westeurope"


def test_set_is_a_child_of_its_component(rec: Recording) -> None:
    encryption_set = rec.get(DES, "disk-encryption-set")
    assert encryption_set.parent == rec.get("dedicated-cmk:provider:DiskCmk", "disk").urn
    assert rec.stack_outputs["diskEncryptionSetId"] == encryption_set.id
