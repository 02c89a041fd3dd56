"""``cmkctl diff BASE HEAD``: op prediction rules and end-to-end changes of the real program."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cmkctl.plan.digest import preview_digest
from cmkctl.plan.reader import PlanError
from cmkctl.plan.recorder import ROOT, record
from cmkctl.review.destructive import Risk
from cmkctl.review.diff import KNOWN_AFTER_APPLY, Review, compare, parse_path, replace_properties
from policies import resource_types as t
from tests.stacks import run_stack

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
STACK = "urn:pulumi:dev::dedicated-cmk::pulumi:pulumi:Stack::dedicated-cmk-dev"


def snapshot(stack: str) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((ROOT / "plans" / f"{stack}.json").read_text())
    return plan


def state(type_: str, name: str, inputs: dict[str, Any], protect: bool = False) -> dict[str, Any]:
    urn = f"urn:pulumi:dev::dedicated-cmk::{type_}::{name}"
    return {"urn": urn, "type": type_, "custom": True, "inputs": inputs, "protect": protect}


def plan(*states: dict[str, Any]) -> dict[str, Any]:
    root = {"op": "create", "urn": STACK, "newState": {"urn": STACK, "type": "pulumi:pulumi:Stack"}}
    return {"steps": [root] + [{"op": "create", "urn": s["urn"], "newState": s} for s in states]}


def ops(review: Review) -> dict[str, str]:
    return {r.name: r.op for r in review.resources}


def destructive(review: Review) -> set[tuple[str, str, str | None]]:
    return {(r.name, r.op, r.risk.value if r.risk else None) for r in review.destructive}


VAULT_IN = {"resourceGroupName": "rg", "vaultName": "kv", "location": "westeurope",
            "properties": {"enableRbacAuthorization": True,
                           "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}}


# --- one rule at a time -------------------------------------------------------------------------

def test_only_in_head_is_create_only_in_base_is_delete_equal_is_same() -> None:
    vault = state(t.VAULT, "vault", VAULT_IN)
    identity = state(t.USER_ASSIGNED_IDENTITY, "id", {"resourceName": "id"})
    review = compare(plan(vault), plan(identity))
    assert ops(review) == {"id": "create", "vault": "delete"}
    assert destructive(review) == {("vault", "delete", "data-loss")}
    assert ops(compare(plan(vault), plan(copy.deepcopy(vault)))) == {"vault": "same"}


def test_change_of_a_replace_forcing_property_is_a_replace() -> None:
    old = state(t.VAULT, "vault", VAULT_IN)
    new = copy.deepcopy(old)
    new["inputs"]["vaultName"] = "kv2"
    [vault] = compare(plan(old), plan(new)).resources
    assert (vault.op, vault.risk) == ("replace", Risk.DATA_LOSS)
    assert [(c.path, c.old, c.new, c.replaces) for c in vault.changes] == [
        ("vaultName", "kv", "kv2", True)]


def test_a_vault_region_change_is_an_update_azure_refuses() -> None:
    old = state(t.VAULT, "vault", VAULT_IN)
    new = copy.deepcopy(old)
    new["inputs"]["location"] = "northeurope"
    [vault] = compare(plan(old), plan(new)).resources
    assert (vault.op, vault.risk) == ("update", None)
    assert [f.title for f in vault.findings] == ["vault region change that Azure will refuse"]
    group = state(t.RESOURCE_GROUP, "rg", {"resourceGroupName": "rg", "location": "westeurope"})
    moved = copy.deepcopy(group)
    moved["inputs"]["location"] = "northeurope"
    assert ops(compare(plan(group), plan(moved))) == {"rg": "replace"}


def test_other_changes_are_updates_with_paths_and_nested_paths() -> None:
    old = state(t.VAULT, "vault", copy.deepcopy(VAULT_IN))
    new = copy.deepcopy(old)
    new["inputs"]["properties"]["networkAcls"]["ipRules"] = [{"value": "203.0.113.0/24"}]
    old["inputs"]["tags"] = {}
    new["inputs"]["tags"] = {"app.tier": "cmk"}
    [vault] = compare(plan(old), plan(new)).resources
    assert vault.op == "update" and vault.risk is None
    assert [(c.path, c.old, c.new, c.replaces) for c in vault.changes] == [
        ("properties.networkAcls.ipRules", None, [{"value": "203.0.113.0/24"}], False),
        ('tags["app.tier"]', None, "cmk", False)]


def test_secrets_stay_masked_and_unknowns_are_known_after_apply() -> None:
    old = state(t.SQL_SERVER, "sql", {"serverName": "s", "administratorLoginPassword": "[secret]",
                                     "keyId": "https://kv.vault.azure.net/keys/k/" + "a" * 32})
    new = copy.deepcopy(old)
    new["inputs"]["keyId"] = UNKNOWN
    [sql] = compare(plan(old), plan(new)).resources
    assert [(c.path, c.new) for c in sql.changes] == [("keyId", KNOWN_AFTER_APPLY)]
    assert sql.risk is Risk.ACCESS_LOSS
    assert "[secret]" not in json.dumps([c.new for c in sql.changes])


def test_azuread_replace_rules_come_from_its_schema() -> None:
    old = state(t.FEDERATED_CREDENTIAL, "fic", {"applicationId": "/applications/1",
                                                "displayName": "a", "subject": "s1"})
    renamed = copy.deepcopy(old)
    renamed["inputs"]["displayName"] = "b"
    resubject = copy.deepcopy(old)
    resubject["inputs"]["subject"] = "s2"
    assert ops(compare(plan(old), plan(renamed))) == {"fic": "replace"}
    assert ops(compare(plan(old), plan(resubject))) == {"fic": "update"}


def test_versioned_azure_native_tokens_share_the_replace_rules() -> None:
    assert replace_properties("azure-native:keyvault/v20230701:Key") == replace_properties(t.KEY)
    assert replace_properties(t.KEY) == {"resourceGroupName": "path", "vaultName": "path",
                                         "keyName": "path"}


def test_types_without_recorded_rules_are_updates_that_say_so() -> None:
    network = "azure-native:network:VirtualNetwork"
    old = state(network, "vnet", {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}})
    new = state(network, "vnet", {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}})
    [vnet] = compare(plan(old), plan(new)).resources
    assert vnet.op == "update"
    assert vnet.notes == (f"replace rules for {network} are not recorded: predicted "
                          "as an update; a real `pulumi preview` decides",)


@pytest.mark.parametrize("type_, inputs, changed, op", [
    # Microsoft.Sql 2023-08-01 Servers.json: x-ms-mutability [read, create]
    (t.SQL_SERVER, {"serverName": "s", "administrators": {"login": "a"}},
     {"administrators": {"login": "b"}}, "replace"),
    (t.SQL_SERVER, {"serverName": "s", "administratorLogin": "a"},
     {"administratorLogin": "b"}, "replace"),
    (t.SQL_SERVER, {"serverName": "s", "minimalTlsVersion": "1.2"},
     {"minimalTlsVersion": "1.3"}, "update"),
    # ServerKeys.json: serverKeyType and uri x-ms-mutability [create]
    (t.SQL_SERVER_KEY, {"keyName": "k", "serverKeyType": "AzureKeyVault", "uri": "u1"},
     {"uri": "u2"}, "replace"),
    (t.SQL_SERVER_KEY, {"keyName": "k", "serverKeyType": "AzureKeyVault"},
     {"serverKeyType": "ServiceManaged"}, "replace"),
    # Compute Resource.location has no create-only mark: an update (that ARM refuses)
    (t.DISK_ENCRYPTION_SET, {"diskEncryptionSetName": "d", "location": "westeurope"},
     {"location": "northeurope"}, "update"),
    # PUT path parameters
    (t.ROLE_DEFINITION, {"roleDefinitionId": "r1", "scope": "/s", "roleName": "a"},
     {"scope": "/s2"}, "replace"),
    (t.ROLE_DEFINITION, {"roleDefinitionId": "r1", "scope": "/s", "roleName": "a"},
     {"roleName": "b"}, "update"),
    ("azure-native:keyvault:Secret", {"secretName": "x", "vaultName": "kv"},
     {"vaultName": "kv2"}, "replace"),
    # azuread schema: every input of ApplicationCertificate replaces
    (t.APPLICATION_CERTIFICATE, {"applicationId": "/applications/1", "value": "A"},
     {"value": "B"}, "replace"),
    # terraform-provider-time: triggers RequiresReplace
    (t.SLEEP, {"createDuration": "120s", "triggers": {"a": "1"}}, {"triggers": {"a": "2"}},
     "replace"),
    (t.SLEEP, {"createDuration": "120s"}, {"createDuration": "60s"}, "update"),
])
def test_replace_predictions_follow_the_recorded_sources(
        type_: str, inputs: dict[str, Any], changed: dict[str, Any], op: str) -> None:
    old = state(type_, "r", inputs)
    new = state(type_, "r", {**inputs, **changed})
    [found] = compare(plan(old), plan(new)).resources
    assert (found.op, found.notes) == (op, ())


def test_a_disk_encryption_set_region_change_is_an_update_azure_refuses() -> None:
    old = state(t.DISK_ENCRYPTION_SET, "des", {"diskEncryptionSetName": "d",
                                               "location": "westeurope"})
    new = state(t.DISK_ENCRYPTION_SET, "des", {"diskEncryptionSetName": "d",
                                               "location": "northeurope"})
    [des] = compare(plan(old), plan(new)).resources
    assert (des.op, des.risk) == ("update", None)
    assert [f.title for f in des.findings] == [
        "disk encryption set region change that Azure will refuse"]


def test_a_urn_change_without_alias_is_a_delete_and_a_create_named_as_a_rename() -> None:
    old = state(t.KEY, "key", {"keyName": "cmk", "vaultName": "kv", "resourceGroupName": "rg"})
    new = copy.deepcopy(old)
    new["urn"] = "urn:pulumi:dev::dedicated-cmk::dedicated-cmk:customer:Vault$" + t.KEY + "::key"
    review = compare(plan(old), plan(new))
    assert [(r.urn, r.op) for r in review.resources] == [(new["urn"], "create"),
                                                         (old["urn"], "delete")]
    assert destructive(review) == {("key", "delete", "data-loss")}
    assert all("without an alias Pulumi deletes the old resource" in r.notes[0]
               for r in review.resources)


def test_protect_change_is_listed() -> None:
    old = state(t.VAULT, "vault", VAULT_IN, protect=True)
    new = state(t.VAULT, "vault", VAULT_IN, protect=False)
    [vault] = compare(plan(old), plan(new)).resources
    assert [(c.path, c.old, c.new) for c in vault.changes] == [("(protect)", True, False)]


def test_a_plan_that_omits_same_steps_cannot_be_compared() -> None:
    partial = plan(state(t.VAULT, "vault", VAULT_IN))
    partial["changeSummary"] = {"same": 5, "create": 2}
    with pytest.raises(PlanError, match=r"^HEAD: comparing two plans needs every resource of the "
                       r"stack, but the plan counts 5 unchanged resource\(s\) it does not list "
                       r"\(a preview without --show-sames\); write it with "
                       r"`pulumi preview --json --show-sames`$"):
        compare(plan(state(t.VAULT, "vault", VAULT_IN)), partial)


def test_paths_in_cli_spelling_parse() -> None:
    assert parse_path('data["app.properties"]') == ["data", "app.properties"]
    assert parse_path("containers[0].image") == ["containers", 0, "image"]
    assert parse_path("tags.X") == ["tags", "X"]


# --- end to end from two recorded plans of the real program ---------------------------------------

def test_vault_replace_end_to_end() -> None:
    review = compare(snapshot("dev"), preview_digest(run_stack("dev", vaultName="kv-contoso-2")))
    vault = next(r for r in review.resources if r.type == t.VAULT)
    assert (vault.op, vault.risk) == ("replace", Risk.DATA_LOSS)
    assert [(c.path, c.replaces) for c in vault.changes] == [("vaultName", True)]
    replaced = {r.type for r in review.resources if r.op == "replace"}
    assert {t.VAULT, t.KEY, t.LOCK} <= replaced
    assert all(r.risk is Risk.DATA_LOSS for r in review.resources if r.type == t.KEY)


def test_key_size_change_end_to_end_is_a_notice_not_applied_by_azure() -> None:
    review = compare(snapshot("customer"), preview_digest(run_stack("customer", keySize="3072",
                                                                    allowKeySizeBeyondPrerequisite="true")))
    changed = [(r.name, r.op, [c.path for c in r.changes], [f.title for f in r.findings])
               for r in review.resources if r.op != "same"]
    assert changed == [
        (name, "update", ["properties.keySize"],
         ["key properties change that Azure will not apply"])
        for name in ("customer-key-cmk-disk", "customer-key-cmk-shared")]
    assert review.summary["destructive"] == 0


def test_permission_model_switch_end_to_end() -> None:
    review = compare(snapshot("dev"),
                     preview_digest(run_stack("dev", vaultPermissionModel="accessPolicy")))
    assert destructive(review) == {("customer-vault", "update", "access-loss"),
                                   ("customer-grant-cmk-disk", "delete", "access-loss"),
                                   ("customer-grant-cmk-shared", "delete", "access-loss")}
    vault = next(r for r in review.resources if r.name == "customer-vault")
    assert [f.title for f in vault.findings] == ["permission model switch"]


def test_binding_key_change_end_to_end() -> None:
    review = compare(snapshot("dev"), preview_digest(run_stack("dev", diskKeyName="cmk-shared")))
    encryption_set = next(r for r in review.resources if r.type == t.DISK_ENCRYPTION_SET)
    assert encryption_set.op == "update"
    assert [(f.risk, f.title, f.path) for f in encryption_set.findings] == [
        (Risk.ACCESS_LOSS, "binding key change", "activeKey.keyUrl")]
    assert ("customer-key-cmk-disk", "delete", "data-loss") in destructive(review)


def test_component_type_rename_without_alias_end_to_end() -> None:
    base = snapshot("dev")
    head = json.loads(json.dumps(base).replace("dedicated-cmk:customer:KeyVault",
                                               "dedicated-cmk:customer:CustomerVault"))
    review = compare(base, head)
    vault_steps = [(r.op, r.risk) for r in review.resources if r.type == t.VAULT]
    assert vault_steps == [("create", None), ("delete", Risk.DATA_LOSS)]
    deleted = {r.name for r in review.resources if r.op == "delete"}
    assert {"customer-vault", "customer-key-cmk-shared", "customer-vault-lock"} <= deleted
    assert all(r.notes for r in review.resources
               if r.op in ("create", "delete") and not r.type.startswith("dedicated-cmk:"))


def test_a_urn_change_with_an_alias_keeps_the_resource() -> None:
    old = state(t.KEY, "key", {"keyName": "cmk", "vaultName": "kv", "resourceGroupName": "rg"})
    new = copy.deepcopy(old)
    new["urn"] = "urn:pulumi:dev::dedicated-cmk::dedicated-cmk:customer:Vault$" + t.KEY + "::key"
    new["aliases"] = [old["urn"]]
    [key] = compare(plan(old), plan(new)).resources
    assert (key.urn, key.op, key.risk) == (new["urn"], "same", None)
    assert key.notes == (f"renamed from {old['urn']}; its alias keeps the resource",)


def test_recorder_resolves_alias_specs_to_engine_urns(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n\n"
        "class Thing(pulumi.ComponentResource):\n"
        "    def __init__(self, name, opts=None):\n"
        "        super().__init__('test:index:Thing', name, None, opts)\n\n"
        "parent = Thing('new-parent')\n"
        "Thing('child', pulumi.ResourceOptions(parent=parent, aliases=[\n"
        "    pulumi.Alias(name='old-child'), pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]))\n")
    recording = record("ci", {}, root=tmp_path)
    child = recording.resources[-1]
    assert child.aliases == [
        "urn:pulumi:ci::dedicated-cmk::test:index:Thing$test:index:Thing::old-child",
        "urn:pulumi:ci::dedicated-cmk::test:index:Thing::child"]
    [step] = [s for s in preview_digest(recording)["steps"] if s["urn"] == child.urn]
    assert step["newState"]["aliases"] == child.aliases


def read_plan(*states: dict[str, Any]) -> dict[str, Any]:
    digest = plan()
    digest["steps"] += [{"op": "read", "urn": s["urn"], "newState": s} for s in states]
    return digest


def test_managed_then_read_is_a_read_that_relinquishes_and_the_reverse_adopts() -> None:
    group = state(t.RESOURCE_GROUP, "rg", {"resourceGroupName": "rg", "location": "westeurope"})
    [relinquished] = compare(plan(group), read_plan(group)).resources
    assert (relinquished.op, relinquished.risk) == ("read", None)
    assert relinquished.notes[0].startswith("managed in BASE, only read in HEAD")
    [adopted] = compare(read_plan(group), plan(group)).resources
    assert adopted.op == "create" and adopted.notes[0].startswith("only read in BASE")
    [still] = compare(read_plan(group), read_plan(group)).resources
    assert (still.op, still.notes) == ("same", ())
    moved = copy.deepcopy(group)
    moved["inputs"]["resourceGroupName"] = "rg2"
    assert ops(compare(read_plan(group), read_plan(moved))) == {"rg": "read"}


def test_a_read_of_another_id_than_the_managed_one_is_a_read_replacement_that_deletes_it() -> None:
    managed = state(t.RESOURCE_GROUP, "rg", {"resourceGroupName": "rg-a", "location": "westeurope"},
                    protect=True)
    managed["outputs"] = {"id": "/subscriptions/s/resourceGroups/rg-a"}
    other = copy.deepcopy(managed)
    other["inputs"]["resourceGroupName"] = "rg-b"
    other["outputs"] = {"id": "/subscriptions/s/resourceGroups/rg-b"}
    [group] = compare(plan(managed), read_plan(other)).resources
    assert (group.op, group.risk) == ("read-replacement", Risk.DATA_LOSS)
    [finding] = group.findings
    assert finding.title == "read-replacement of resource group"
    assert finding.what.startswith("the stack now reads another resource group than the one "
                                   "it manages, so the engine deletes the managed one")
    assert finding.what.endswith("`pulumi up` refuses this until the resource is unprotected.")
    assert group.notes[0].startswith("managed in BASE, read in HEAD under another id")


def test_plans_of_different_stacks_are_refused() -> None:
    prod = state(t.VAULT, "vault", VAULT_IN)
    prod["urn"] = prod["urn"].replace("urn:pulumi:dev::", "urn:pulumi:prod::")
    with pytest.raises(PlanError, match=r"^BASE is stack dev/dedicated-cmk and HEAD is stack "
                       r"prod/dedicated-cmk: compare two plans of the same stack$"):
        compare(plan(state(t.VAULT, "vault", VAULT_IN)), plan(prod))
