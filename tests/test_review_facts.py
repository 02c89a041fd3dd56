"""Each Azure and Pulumi fact the review commands rely on, end to end, from two offline plans
and from a preview shaped as `pulumi preview --json` prints it (the CLI's PreviewDigest:
steps with op, urn, provider, oldState, newState, diffReasons, replaceReasons,
detailedDiff; sames counted in changeSummary but not listed without --show-sames; error
diagnostics with severity and message when the program fails)."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from cmkctl import cli
from cmkctl.plan.recorder import ROOT
from cmkctl.review import run as review
from cmkctl.review import safe_text as st
from policies import resource_types as t

STACK = "urn:pulumi:prod::dedicated-cmk::pulumi:pulumi:Stack::dedicated-cmk-prod"
PREFIX = "urn:pulumi:prod::dedicated-cmk::"
ARM = f"{PREFIX}pulumi:providers:azure-native::customer-arm::0b5e"
KEY_URL = "https://kv-contoso.vault.azure.net/keys/cmk-disk/"
FIC_IN = {"applicationId": "/applications/1", "displayName": "cmk",
          "issuer": "https://login.microsoftonline.com/T1/v2.0", "subject": "principal-1",
          "audiences": ["api://AzureADTokenExchange"]}
DES_IN = {"diskEncryptionSetName": "des", "location": "westeurope",
          "activeKey": {"keyUrl": KEY_URL + "a" * 32}, "federatedClientId": "app"}
VAULT_IN = {"vaultName": "kv", "properties": {
    "enablePurgeProtection": True, "networkAcls": {"defaultAction": "Deny",
                                                   "bypass": "AzureServices"}}}
APP_IN = {"displayName": "cmk", "signInAudience": "AzureADMultipleOrgs"}


def state(type_: str, name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    urn = f"{PREFIX}{type_}::{name}"
    return {"urn": urn, "type": type_, "custom": True, "inputs": inputs, "provider": ARM,
            "protect": False, **extra}


def offline(*states: dict[str, Any], reads: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """A plan as `cmkctl preview --out` writes it: every resource a create (or read)."""
    root = {"op": "create", "urn": STACK, "newState": {"urn": STACK, "type": "pulumi:pulumi:Stack"}}
    steps = [root, *({"op": "create", "urn": s["urn"], "newState": s} for s in states),
             *({"op": "read", "urn": s["urn"], "newState": s} for s in reads)]
    return {"steps": steps, "changeSummary": {"create": 1 + len(states), "read": len(reads)}}


def preview(*steps: dict[str, Any], same: int = 12) -> dict[str, Any]:
    """A real preview made without --show-sames: sames counted, not listed."""
    summary: dict[str, int] = {"same": same}
    for step in steps:
        op = step["op"]
        if op not in ("create-replacement", "delete-replaced"):
            summary[op] = summary.get(op, 0) + 1
    return {"config": {}, "steps": list(steps), "diagnostics": [], "duration": 9_000_000,
            "changeSummary": summary}


def update(old: dict[str, Any], new_inputs: dict[str, Any], *paths: str) -> dict[str, Any]:
    new = {**copy.deepcopy(old), "inputs": new_inputs}
    new.pop("id", None)
    return {"op": "update", "urn": old["urn"], "provider": ARM, "oldState": old,
            "newState": new, "diffReasons": [p.split(".")[0] for p in paths],
            "replaceReasons": [],
            "detailedDiff": {p: {"kind": "update", "inputDiff": True} for p in paths}}


def diff(tmp_path: Path, *plans: dict[str, Any], fmt: str = "text") -> tuple[int, str, str]:
    paths = []
    for index, plan in enumerate(plans):
        path = tmp_path / f"plan{index}.json"
        path.write_text(json.dumps(plan))
        paths.append(str(path))
    out, err = io.StringIO(), io.StringIO()
    code = review.run(paths, fmt, False, None, out, err)
    return code, out.getvalue(), err.getvalue()


# --- access-loss the old classifier called safe ------------------------------------------------

@pytest.mark.parametrize("path, value", [
    ("issuer", "https://login.microsoftonline.com/T2/v2.0"), ("subject", "principal-2"),
    ("audiences", ["api://AzureADTokenExchangeUSGov"])])
def test_federated_credential_claims_changed_in_place_fail_the_diff(
        tmp_path: Path, path: str, value: Any) -> None:
    old = state(t.FEDERATED_CREDENTIAL, "fic", FIC_IN)
    new = state(t.FEDERATED_CREDENTIAL, "fic", {**FIC_IN, path: value})
    code, out, _ = diff(tmp_path, offline(old), offline(new))
    assert code == 1
    assert ("! access-loss: federated credential claims change\n"
            f"    update {t.FEDERATED_CREDENTIAL}  fic: {path} changes from") in out
    code, out, _ = diff(tmp_path, preview(update({**old, "id": "/f"}, new["inputs"], path)))
    assert code == 1 and "! access-loss: federated credential claims change" in out


# --- safe changes the old classifier called loss ----------------------------------------------

def test_removing_a_retained_resource_keeps_it_in_azure(tmp_path: Path) -> None:
    app = state(t.APPLICATION, "provider-app", APP_IN, retainOnDelete=True, id="/a")
    code, out, _ = diff(tmp_path, offline(app), offline())
    assert code == 0
    assert "! notice: delete of application kept in Azure" in out
    assert "removed from the stack, kept in Azure" in out
    real = preview({"op": "delete", "urn": app["urn"], "provider": ARM, "oldState": app,
                    "detailedDiff": None})
    code, out, _ = diff(tmp_path, real)
    assert code == 0 and "No destructive changes." in out


def test_a_new_version_of_the_same_key_is_routine_rotation(tmp_path: Path) -> None:
    old = state(t.DISK_ENCRYPTION_SET, "des", DES_IN, id="/d")
    rotated = {**DES_IN, "activeKey": {"keyUrl": KEY_URL + "b" * 32}}
    for plans in ((offline(old), offline(state(t.DISK_ENCRYPTION_SET, "des", rotated))),
                  (preview(update(old, rotated, "activeKey.keyUrl")),)):
        code, out, _ = diff(tmp_path, *plans)
        assert code == 0
        assert "! notice: key version rotation" in out
        assert "safe way: Keep the previous key version enabled for at least 24 hours" in out
    other_key = {**DES_IN, "activeKey": {"keyUrl": KEY_URL.replace("cmk-disk", "cmk-2") + "b"}}
    code, out, _ = diff(tmp_path, preview(update(old, other_key, "activeKey.keyUrl")))
    assert code == 1 and "! access-loss: binding key change" in out


def test_opening_the_firewall_weakens_protection_without_failing_the_diff(
        tmp_path: Path) -> None:
    old = state(t.VAULT, "vault", VAULT_IN, id="/v")
    opened = copy.deepcopy(VAULT_IN)
    opened["properties"]["networkAcls"]["defaultAction"] = "Allow"
    for plans in ((offline(old), offline(state(t.VAULT, "vault", opened))),
                  (preview(update(old, opened, "properties.networkAcls.defaultAction")),)):
        code, out, _ = diff(tmp_path, *plans, fmt="markdown")
        assert code == 0
        assert "**No destructive changes. 1 change(s) weaken protection: read them.**" in out
        assert "### Weakened protection (not destructive; the policy pack judges it)" in out
        assert "- **weakening: vault firewall opened**" in out


# --- wrong or missing reasons -------------------------------------------------------------------

def test_a_group_read_under_another_name_deletes_the_managed_one(tmp_path: Path) -> None:
    managed = state(t.RESOURCE_GROUP, "customer-rg", {"resourceGroupName": "rg-a",
                                                      "location": "westeurope"},
                    id="/subscriptions/s/resourceGroups/rg-a", protect=True,
                    outputs={"id": "/subscriptions/s/resourceGroups/rg-a"})
    other = state(t.RESOURCE_GROUP, "customer-rg", {"resourceGroupName": "rg-b"},
                  id="/subscriptions/s/resourceGroups/rg-b",
                  outputs={"id": "/subscriptions/s/resourceGroups/rg-b"})
    code, out, _ = diff(tmp_path, offline(managed), offline(reads=(other,)))
    assert code == 1
    assert "! data-loss: read-replacement of resource group" in out
    assert "the engine deletes the managed one" in out
    assert "`pulumi up` refuses this until the resource is unprotected." in out
    real = preview({"op": "read-replacement", "urn": other["urn"], "provider": ARM,
                    "newState": other, "detailedDiff": None},
                   {"op": "delete-replaced", "urn": managed["urn"], "provider": ARM,
                    "oldState": {**managed, "delete": True}, "detailedDiff": None})
    code, out, _ = diff(tmp_path, real)
    assert code == 1 and "! data-loss: read-replacement of resource group" in out


# --- failed and partial previews ----------------------------------------------------------------

FAILED = {"config": {}, "steps": [{"op": "same", "urn": STACK, "oldState": {
    "urn": STACK, "type": "pulumi:pulumi:Stack"}, "newState": {
    "urn": STACK, "type": "pulumi:pulumi:Stack"}}],
    "diagnostics": [{"urn": STACK, "prefix": "error: ", "severity": "error",
                     "message": "Program failed with an unhandled exception:\nKeyError: 'x'"}],
    "changeSummary": {"same": 1}}


@pytest.mark.parametrize("command", [
    ["diff"], ["check", "--plan"], ["risks", "--plan"], ["graph", "--plan"]])
def test_a_failed_preview_is_judged_by_no_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    path = tmp_path / "failed.json"
    path.write_text(json.dumps(FAILED))
    assert cli.main([*command, str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert ("the preview failed: 1 error(s); nothing can be judged (first: Program failed "
            "with an unhandled exception: KeyError: 'x'). Fix the program and preview again."
            in captured.err)


def test_a_preview_with_fewer_steps_than_its_summary_counts_failed(tmp_path: Path) -> None:
    old = state(t.VAULT, "vault", VAULT_IN, id="/v")
    cut = preview(update(old, VAULT_IN, "tags"))
    cut["changeSummary"]["delete"] = 3
    code, out, err = diff(tmp_path, cut)
    assert (code, out) == (2, "")
    assert "the preview failed: its changeSummary counts 3 change(s) that no step lists" in err


def test_a_partial_preview_gets_no_confident_wrong_answer(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The dev plan as a real preview without --show-sames: only the keys listed."""
    dev = json.loads((ROOT / "plans" / "dev.json").read_text())
    keys = [s for s in dev["steps"] if s["newState"]["type"] == t.KEY]
    partial = {**dev, "steps": keys,
               "changeSummary": {"create": len(keys), "same": len(dev["steps"]) - len(keys)}}
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(partial))
    assert cli.main(["risks", "--plan", str(path), "--format", "json"]) == 0
    scenarios = json.loads(capsys.readouterr().out)["scenarios"]
    assert {s["verdict"] for s in scenarios} == {"undecided"}
    assert all("write it with `pulumi preview --json --show-sames`" in s["why"]
               for s in scenarios)
    assert cli.main(["check", "--plan", str(path), "--strict", "--format", "json"]) == 1
    verdicts = json.loads(capsys.readouterr().out)["violations"]
    assert not [v for v in verdicts if v["enforcementLevel"] == "mandatory"]
    assert "key-material-locks" in {v["policy"] for v in verdicts if v["undecided"]}
    assert cli.main(["graph", "--plan", str(path)]) == 2
    assert "needs every resource of the stack" in capsys.readouterr().err
    base = tmp_path / "base.json"
    base.write_text(json.dumps(dev))
    assert cli.main(["diff", str(base), str(path)]) == 2
    assert "HEAD: comparing two plans needs every resource" in capsys.readouterr().err


# --- readable -----------------------------------------------------------------------------------

def test_a_vault_rename_states_the_safe_way_once_per_kind_and_that_up_refuses(
        tmp_path: Path) -> None:
    dev = json.loads((ROOT / "plans" / "dev.json").read_text())
    head = json.loads(json.dumps(dev).replace("kv-contoso-cmk-dev", "kv-contoso-cmk-dv2"))
    code, out, _ = diff(tmp_path, dev, head, fmt="markdown")
    assert code == 1
    findings = out.split("### Changes per resource")[0]
    assert findings.count("  - Safe way: do not delete the vault") == 1
    assert findings.count("  - Safe way: never delete a bound key") == 1
    assert "- **data-loss: replace of key vault**" in findings
    assert st.text("`pulumi up` refuses this until the resource is unprotected.") in findings
    # Old and new vault URIs differ after the shared head, and both show the difference.
    assert "kv-contoso-cmk-dev" in out and "kv-contoso-cmk-dv2" in out
