"""Every spelling of a resource gets the same verdicts: a fixture per type spelling.

The compliant stack is re-spelled with the versioned azure-native modules of every type
it uses (as a program on another SDK version registers them): the verdicts are those of
the current spelling, a broken vault fails the same way in each spelling, and the
analyzer the Pulumi CLI talks to agrees with ``cmkctl check``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from policies import resource_types as rt
from tests.policies.cmk_plan_fixtures import Spec, baseline, build_plan, edit, names, results
from tests.policies.test_policy_engine_parity import _engine

B = baseline()

VERSIONED: dict[str, list[str]] = {
    rt.VAULT: ["azure-native:keyvault/v20230701:Vault", "azure-native:keyvault/v20241101:Vault",
               "azure-native:keyvault/v20240401preview:Vault"],
    rt.KEY: ["azure-native:keyvault/v20230701:Key", "azure-native:keyvault/v20190901:Key"],
    rt.LOCK: ["azure-native:authorization/v20200501:ManagementLockByScope",
              "azure-native:authorization/v20170401:ManagementLockByScope"],
    rt.ROLE_ASSIGNMENT: ["azure-native:authorization/v20220401:RoleAssignment"],
    rt.USER_ASSIGNED_IDENTITY: ["azure-native:managedidentity/v20230131:UserAssignedIdentity"],
    rt.STORAGE_ACCOUNT: ["azure-native:storage/v20230101:StorageAccount"],
    rt.SQL_SERVER: ["azure-native:sql/v20230801:Server"],
    rt.DISK_ENCRYPTION_SET: ["azure-native:compute/v20240302:DiskEncryptionSet"],
}
SPELLINGS = [(current, versioned) for current, spellings in VERSIONED.items()
             for versioned in spellings]


def _respelled(specs: list[Spec], current: str, versioned: str) -> list[Spec]:
    return [replace(s, type=versioned) if s.type == current else s for s in specs]


def _verdicts(specs: list[Spec]) -> set[tuple[str, str, str]]:
    """(policy, resource name, level) of every definite result."""
    return {(r.policy, r.urn.rsplit("::", 1)[-1], r.level.value)
            for r in results(build_plan(specs)) if not r.undecided}


@pytest.mark.parametrize(("current", "versioned"), SPELLINGS, ids=[v for _, v in SPELLINGS])
def test_pass_the_compliant_stack_in_each_spelling(current: str, versioned: str) -> None:
    assert _verdicts(_respelled(B, current, versioned)) == set()


@pytest.mark.parametrize("versioned", VERSIONED[rt.VAULT])
def test_fail_a_vault_without_purge_protection_in_each_spelling(versioned: str) -> None:
    broken = _respelled(edit(B, "kv", "properties.enablePurgeProtection", False), rt.VAULT,
                        versioned)
    assert _verdicts(broken) == {("vault-purge-protection", "kv", "mandatory")}


@pytest.mark.parametrize("versioned", VERSIONED[rt.KEY])
def test_fail_a_key_with_every_operation_in_each_spelling(versioned: str) -> None:
    broken = _respelled(edit(B, "key", "properties.keyOps",
                             ["wrapKey", "unwrapKey", "encrypt", "decrypt"]), rt.KEY, versioned)
    assert _verdicts(broken) == {("key-wrap-operations", "key", "mandatory")}


def test_fail_a_missing_key_lock_whatever_the_lock_spelling() -> None:
    specs = [s for s in _respelled(B, rt.LOCK, VERSIONED[rt.LOCK][0]) if s.name != "key-lock"]
    assert _verdicts(specs) == {("key-material-locks", "key", "mandatory")}


def test_the_analyzer_agrees_on_a_fully_versioned_stack() -> None:
    specs: list[Any] = B
    for current, spellings in VERSIONED.items():
        specs = _respelled(specs, current, spellings[0])
    broken = edit(specs, "kv", "properties.enablePurgeProtection", False)
    plan = build_plan(broken)
    engine = {(p, u, lvl) for p, u, lvl, undecided in _engine(plan) if not undecided}
    assert engine == {("vault-purge-protection", min(names(broken, "kv")), "mandatory")}
