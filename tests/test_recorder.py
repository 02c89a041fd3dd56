"""The recorder: isolated runs, strict about what it cannot fake, engine-shaped records."""

from __future__ import annotations

import pytest

from cmkctl.plan.fake_azure import UnknownResourceTypeError, fake, key_version
from cmkctl.plan.recorder import Recording
from tests.stacks import run_stack

APP = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"


def key_names(rec: Recording) -> list[str]:
    return sorted(r.inputs["keyName"] for r in rec.by_type("azure-native:keyvault:Key"))


def test_runs_do_not_leak_config_or_resources_into_each_other() -> None:
    first = run_stack(mode="customer", providerAppClientId=APP, diskKeyName="cmk-disk")
    second = run_stack(mode="customer", providerAppClientId=APP, diskKeyName=None)
    assert key_names(first) == ["cmk-disk", "cmk-shared"]
    assert key_names(second) == ["cmk-shared"]
    assert "dedicated-cmk:diskKeyName" not in second.config


def test_runs_are_deterministic() -> None:
    one = run_stack(mode="customer", providerAppClientId=APP)
    two = run_stack(mode="customer", providerAppClientId=APP)
    assert [(r.urn, r.id, r.outputs) for r in one.resources] == [
        (r.urn, r.id, r.outputs) for r in two.resources
    ]


def test_unknown_resource_types_are_refused() -> None:
    with pytest.raises(
        UnknownResourceTypeError, match="no fake outputs for azure-native:web:WebApp"
    ):
        fake("azure-native:web:WebApp", "app", {}, {})


def test_key_versions_are_32_hex_digits_stable_per_key() -> None:
    version = key_version("/subscriptions/x/keys/a")
    assert len(version) == 32 and int(version, 16) >= 0
    assert (
        version == key_version("/subscriptions/x/keys/a") != key_version("/subscriptions/x/keys/b")
    )


def test_dependencies_and_property_dependencies_are_recorded() -> None:
    rec = run_stack(mode="customer", providerAppClientId=APP)
    key = rec.get("azure-native:keyvault:Key", "customer-key-cmk-shared")
    vault = rec.get("azure-native:keyvault:Vault", "customer-vault")
    assert vault.urn in key.dependencies
    assert key.property_dependencies["vaultName"] == [vault.urn]


def test_stack_references_read_the_local_stack_offline() -> None:
    customer = run_stack("customer")
    provider = run_stack(
        "provider",
        storageKeyUri=None,
        sqlKeyUri=None,
        diskKeyUri=None,
        customerStack="acme/dedicated-cmk/customer",
    )
    reference = provider.get("pulumi:pulumi:StackReference", "acme/dedicated-cmk/customer")
    assert reference.outputs["outputs"]["diskKeyUri"] == customer.stack_outputs["diskKeyUri"]
    des = provider.get("azure-native:compute:DiskEncryptionSet", "disk-encryption-set")
    assert des.inputs["activeKey"] == {"keyUrl": customer.stack_outputs["diskKeyUri"]}
