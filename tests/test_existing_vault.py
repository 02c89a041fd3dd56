"""Bring your own vault: an existing vault and key are read, judged by what Azure returns, and
switching between created and existing never deletes anything."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from cmkctl.check.pack_config import parse_pack_config
from cmkctl.check.runner import Result, evaluate
from cmkctl.plan.digest import preview_digest
from cmkctl.plan.reader import read_plan
from cmkctl.plan.recorder import (
    ExistingDescriptionError,
    Recording,
    existing_description,
    record,
)
from cmkctl.review.diff import ADOPTED, RELINQUISHED, compare
from components.config.problems import ConfigError
from components.config.stack import load
from policies.pack import PACK_ENFORCEMENT_LEVEL, build_policies
from policies.resource_types import KEY, LOCK, ROLE_ASSIGNMENT, VAULT
from tests.stacks import config_of, run_stack
from tests.test_config import CUSTOMER

VAULT_ID = ("/subscriptions/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/resourceGroups/"
            "rg-contoso-security/providers/Microsoft.KeyVault/vaults/kv-contoso-hsm")
EXISTING = {"vaultExisting": "true", "vaultIpRules": None, "keyExisting": '["cmk-shared", '
            '"cmk-disk"]', "keyExpiresOn": None}
"""The dev stack switched to its vault and keys as existing (created settings removed)."""


def problems(raw: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(raw)
    return [p.render() for p in caught.value.problems]


def results(recording: Recording) -> list[Result]:
    """The pack's results on the recording's plan."""
    digest = preview_digest(recording)
    policies = build_policies()
    return evaluate(read_plan(json.loads(json.dumps(digest))), policies,
                    parse_pack_config({}, policies), PACK_ENFORCEMENT_LEVEL)


def described(**vault_properties: Any) -> str:
    """``cmkctl:existing`` of the byovault stack with some vault properties changed."""
    existing = json.loads(config_of("byovault")["cmkctl:existing"])
    existing["vault"]["properties"].update(vault_properties)
    return json.dumps(existing)


def recorded(stack: str, overrides: Mapping[str, str | None]) -> Recording:
    """``stack`` recorded with ``overrides`` (short keys, or namespaced like cmkctl:existing)."""
    return record(stack, config_of(stack, **overrides))


def record_byovault(**overrides: str | None) -> Recording:
    return recorded("byovault", overrides)


# --- config -------------------------------------------------------------------------------

def test_an_existing_vault_refuses_the_settings_of_a_created_one() -> None:
    assert problems({**CUSTOMER, "vaultExisting": "true", "vaultSku": "premium"}) == [
        "dedicated-cmk:vaultSku: has no effect: vaultExisting reads the vault as it is; the "
        "policy pack judges its settings from what Azure returns\n"
        "    fix: pulumi config rm vaultSku"]


def test_an_existing_vault_must_use_rbac() -> None:
    (problem,) = problems({**CUSTOMER, "vaultExisting": "true",
                           "vaultPermissionModel": "accessPolicy"})
    assert problem.startswith("dedicated-cmk:vaultPermissionModel: accessPolicy cannot be used "
                              "with vaultExisting: the program would take over the existing "
                              "vault's whole access-policy list")


def test_key_existing_names_a_key_the_stack_uses() -> None:
    assert problems({**CUSTOMER, "keyExisting": '["cmk-hsm"]'}) == [
        "dedicated-cmk:keyExisting[0]: 'cmk-hsm' is not a key this stack uses (cmk)\n"
        "    fix: pulumi config rm --path 'keyExisting[0]' (or name it in keyName or "
        "<service>KeyName)"]


def test_key_settings_without_a_created_key_are_refused() -> None:
    (problem,) = problems({**CUSTOMER, "keyExisting": '["cmk"]', "keySize": "3072"})
    assert problem.startswith("dedicated-cmk:keySize: has no effect: every key is in keyExisting")


def test_existing_and_created_keys_are_told_apart() -> None:
    config = load({**CUSTOMER, "vaultExisting": "true", "keyName": "cmk-byok",
                   "diskKeyName": "cmk-disk", "keyExisting": '["cmk-byok"]'})
    assert config.customer is not None and config.customer.vault.existing
    assert {k.name: k.existing for k in config.customer.keys} == {"cmk-byok": True,
                                                                  "cmk-disk": False}


# --- what the program does ----------------------------------------------------------------

@pytest.fixture(scope="module")
def byovault() -> Recording:
    return run_stack("byovault")


def test_the_existing_vault_and_key_are_read_and_only_locks_and_grants_are_added(
        byovault: Recording) -> None:
    vault = byovault.get(VAULT, "customer-vault")
    key = byovault.get(KEY, "customer-key-cmk-byok")
    assert (vault.read, vault.id, key.read, key.id) == (True, VAULT_ID, True,
                                                        f"{VAULT_ID}/keys/cmk-byok")
    assert not byovault.get(KEY, "customer-key-cmk-disk").read
    locks = {r.name: r.inputs["scope"] for r in byovault.by_type(LOCK)}
    assert locks == {"customer-vault-lock": VAULT_ID,
                     "customer-key-cmk-byok-lock": f"{VAULT_ID}/keys/cmk-byok",
                     "customer-key-cmk-disk-lock": f"{VAULT_ID}/keys/cmk-disk"}
    grants = {r.name: r.inputs["scope"] for r in byovault.by_type(ROLE_ASSIGNMENT)}
    assert grants["customer-grant-cmk-byok"] == f"{VAULT_ID}/keys/cmk-byok"
    assert byovault.stack_outputs["storageKeyUri"] == (
        "https://kv-contoso-hsm.vault.azure.net/keys/cmk-byok/5f1e2d3c4b5a69788796a5b4c3d2e1f0")


def test_a_compliant_existing_vault_passes_the_pack(byovault: Recording) -> None:
    assert [r for r in results(byovault) if not r.undecided] == []


def test_an_existing_vault_without_purge_protection_fails_with_the_command_that_fixes_it() -> None:
    recording = record_byovault(**{"cmkctl:existing": described(enablePurgeProtection=False)})
    failed = [(r.policy, r.message) for r in results(recording) if not r.undecided]
    assert failed == [(
        "vault-purge-protection",
        "properties.enablePurgeProtection is false; set it to true. Fix the existing vault: "
        "az keyvault update --resource-group rg-contoso-security --name kv-contoso-hsm "
        "--enable-purge-protection true  "
        "(irreversible: see docs/onboarding.md, Bring your own vault)")]


def test_an_existing_vault_open_to_every_network_fails_with_the_firewall_command() -> None:
    recording = record_byovault(**{"cmkctl:existing": described(
        networkAcls={"defaultAction": "Allow", "bypass": "AzureServices"})})
    [(policy, message)] = [(r.policy, r.message) for r in results(recording)
                           if not r.undecided]
    assert policy == "vault-network-firewall"
    assert message.endswith("Fix the existing vault: az keyvault update --resource-group "
                            "rg-contoso-security --name kv-contoso-hsm --bypass AzureServices "
                            "--default-action Deny")


def test_an_undescribed_existing_vault_cannot_pass_offline() -> None:
    recording = record_byovault(**{"cmkctl:existing": None})
    found = results(recording)
    assert [r for r in found if not r.undecided] == []
    blocked = {r.policy for r in found if r.blocks_strict}
    assert {"vault-soft-delete", "vault-purge-protection", "vault-network-firewall",
            "key-type-and-size"} <= blocked


# --- switching ----------------------------------------------------------------------------

def as_existing(created: Recording) -> dict[str, str | None]:
    """Overrides switching the dev stack to existing, with the offline description Azure would
    give of what ``created`` made (so the bindings keep their key versions)."""
    vault = created.get(VAULT, "customer-vault").outputs
    keys = {r.outputs["name"]: {k: r.outputs[k] for k in (
        "kty", "keySize", "keyOps", "attributes", "rotationPolicy", "keyUriWithVersion")}
        for r in created.by_type(KEY)}
    existing = {"vault": {"location": vault["location"], "properties": vault["properties"]},
                "keys": keys}
    return {**EXISTING, "cmkctl:existing": json.dumps(existing)}


def test_created_to_existing_releases_the_vault_and_keys_and_deletes_nothing() -> None:
    created = run_stack("dev")
    base = preview_digest(created)
    head = preview_digest(recorded("dev", as_existing(created)))
    review = compare(base, head)
    released = {r.name: (r.op, r.notes) for r in review.resources if r.notes}
    assert released == {name: ("read", (RELINQUISHED,)) for name in (
        "customer-vault", "customer-key-cmk-shared", "customer-key-cmk-disk")}
    assert review.destructive == ()


def test_existing_to_created_is_an_adoption_to_import() -> None:
    review = compare(preview_digest(recorded("dev", EXISTING)),
                     preview_digest(run_stack("dev")))
    adopted = {r.name for r in review.resources if r.notes == (ADOPTED,)}
    assert adopted == {"customer-vault", "customer-key-cmk-shared", "customer-key-cmk-disk"}
    assert "pulumi import" in ADOPTED


def test_a_read_under_another_id_is_a_destructive_read_replacement() -> None:
    base = preview_digest(run_stack("dev"))
    head = preview_digest(recorded("dev", {**EXISTING, "vaultName": "kv-contoso-other"}))
    [vault] = [r for r in compare(base, head).resources if r.name == "customer-vault"]
    assert vault.op == "read-replacement" and vault.risk is not None
    assert vault.notes[0].startswith("managed in BASE, read in HEAD under another id")


@pytest.mark.parametrize("text", ['["vault"]', '{"vault": []}', '{"vaults": {}}', "not json"])
def test_an_unusable_offline_description_is_refused_by_name(text: str) -> None:
    with pytest.raises(ExistingDescriptionError, match=(
            r"^cmkctl:existing: expected an object with 'vault' \(location, properties\) and "
            r"'keys' \(one object per key name\), in the shape Azure returns them$")):
        existing_description({"cmkctl:existing": text})


def test_the_organisation_key_set_up_selects_an_existing_vault_and_key() -> None:
    rec = recorded("org", {"vaultExisting": "true", "keyExisting": '["org-kek"]',
                           "vaultIpRules": None, "keyExpiresOn": None, "keySize": None,
                           "keyType": None})
    assert [(r.name, r.read) for r in rec.by_type(VAULT)] == [("organization-key-vault", True)]
    assert [(r.name, r.read) for r in rec.by_type(KEY)] == [("organization-key-key-org-kek", True)]
    assert {r.name for r in rec.by_type(LOCK)} == {"organization-key-vault-lock",
                                                  "organization-key-key-org-kek-lock"}


def test_an_existing_vault_exports_the_region_azure_reports() -> None:
    existing = json.loads(config_of("byovault")["cmkctl:existing"])
    existing["vault"]["location"] = "northeurope"
    recording = record_byovault(**{"cmkctl:existing": json.dumps(existing)})
    assert recording.stack_outputs["vaultLocation"] == "northeurope"
