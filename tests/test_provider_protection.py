"""Everything whose loss loses data or the path to the key is protected, on both sides.

Asserted per resource, in every mode that creates it and for each value of the key that
loosens it; an existing resource group is read under the created group's URN (so a switch
to it is a relinquish, never a delete); and no URN of an example stack moved.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmkctl.plan.recorder import Recording
from policies.resource_types import APPLICATION, FEDERATED_CREDENTIAL, USER_ASSIGNED_IDENTITY
from policies.resource_types import RESOURCE_GROUP as GROUP
from tests.stacks import run_stack

PROVIDER_GUARDED = [
    (GROUP, "provider-rg"),
    (USER_ASSIGNED_IDENTITY, "provider-identity"),
    (FEDERATED_CREDENTIAL, "provider-federated-credential"),
    ("azure-native:storage:StorageAccount", "storage-account"),
    ("azure-native:sql:Server", "sql-server"),
    ("azure-native:sql:ServerKey", "sql-key"),
    ("azure-native:sql:EncryptionProtector", "sql-protector"),
    ("azure-native:compute:DiskEncryptionSet", "disk-encryption-set"),
]
CUSTOMER_GUARDED = [
    (GROUP, "customer-rg"),
    ("azure-native:keyvault:Vault", "customer-vault"),
    ("azure-native:keyvault:Key", "customer-key-cmk-shared"),
    ("azure-native:keyvault:Key", "customer-key-cmk-disk"),
    ("azure-native:authorization:ManagementLockByScope", "customer-vault-lock"),
    ("azure-native:authorization:ManagementLockByScope", "customer-key-cmk-shared-lock"),
    ("azure-native:authorization:RoleAssignment", "customer-grant-cmk-shared"),
]
LOOSENING = [(None, True), ("true", True), ("false", False)]
"""Unset (the default), explicitly on, explicitly off."""
URNS = json.loads((Path(__file__).parent / "fixtures" / "example_urns.json").read_text())
"""URNs of the example stacks as they were before protection was added (issue 7)."""


def protection(rec: Recording, resources: list[tuple[str, str]]) -> dict[str, bool]:
    return {name: rec.get(type_, name).protect for type_, name in resources}


@pytest.mark.parametrize("mode", ["both", "provider"])
@pytest.mark.parametrize(("value", "expected"), LOOSENING)
def test_every_provider_resource_is_protected_unless_loosened(
    mode: str, value: str | None, expected: bool
) -> None:
    stack = "dev" if mode == "both" else "provider"
    rec = run_stack(stack, protectProviderResources=value)
    assert protection(rec, PROVIDER_GUARDED) == {name: expected for _, name in PROVIDER_GUARDED}


@pytest.mark.parametrize(("value", "expected"), LOOSENING)
def test_provider_loosening_leaves_the_customer_side_protected(
    value: str | None, expected: bool
) -> None:
    rec = run_stack("dev", protectProviderResources=value)
    assert protection(rec, CUSTOMER_GUARDED) == {name: True for _, name in CUSTOMER_GUARDED}
    assert protection(rec, PROVIDER_GUARDED) == {name: expected for _, name in PROVIDER_GUARDED}


@pytest.mark.parametrize("mode", ["both", "customer"])
@pytest.mark.parametrize(("value", "expected"), LOOSENING)
def test_customer_loosening_leaves_the_provider_side_protected(
    mode: str, value: str | None, expected: bool
) -> None:
    stack = "dev" if mode == "both" else "customer"
    rec = run_stack(stack, protectKeyMaterial=value)
    assert protection(rec, CUSTOMER_GUARDED) == {name: expected for _, name in CUSTOMER_GUARDED}
    if mode == "both":
        assert protection(rec, PROVIDER_GUARDED) == {name: True for _, name in PROVIDER_GUARDED}


def test_the_shared_app_is_retained_on_delete_not_protected() -> None:
    app = run_stack("dev").get(APPLICATION, "provider-app")
    assert (app.retain_on_delete, app.protect) == (True, False)


def test_nothing_is_protected_once_both_sides_are_loosened() -> None:
    rec = run_stack("dev", protectKeyMaterial="false", protectProviderResources="false")
    assert [r.name for r in rec.resources if r.protect] == []


@pytest.mark.parametrize("side", ["provider", "customer"])
def test_an_existing_group_is_read_at_the_urn_a_created_group_has(side: str) -> None:
    created = run_stack("dev").get(GROUP, f"{side}-rg")
    read = run_stack("dev", **{f"{side}ResourceGroupExisting": "true"}).get(GROUP, f"{side}-rg")
    assert (read.urn, read.id, read.read, read.protect) == (created.urn, created.id, True, False)
    assert (created.read, created.protect) == (False, True)


@pytest.mark.parametrize("stack", sorted(URNS))
def test_example_stack_urns_are_unchanged(stack: str) -> None:
    assert sorted(r.urn for r in run_stack(stack).resources) == URNS[stack]
