"""``cmkctl risks``: verdicts per loss scenario, derived from the plan and the pack's results."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from cmkctl import cli
from cmkctl.plan.reader import parse_plan
from cmkctl.plan.recorder import ROOT
from cmkctl.review import risks_run
from policies import resource_types as t


def snapshot(stack: str) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((ROOT / "plans" / f"{stack}.json").read_text())
    return plan


def verdicts(digest: dict[str, Any]) -> dict[str, str]:
    return {a.scenario.id: a.verdict for a in risks_run.assess_plan(parse_plan(digest))}


def edit(digest: dict[str, Any], type_: str, change: Any) -> dict[str, Any]:
    for step in digest["steps"]:
        if step["newState"]["type"] == type_:
            change(step["newState"]["inputs"])
    return digest


def test_dev_stack_verdicts() -> None:
    assert verdicts(snapshot("dev")) == {
        "lock-removed": "recoverable within 90 days",
        "current-key-deleted": "recoverable within 90 days",
        "previous-version-deleted": "recoverable within 90 days",
        "key-compromised": "mitigated",
        "access-revoked": "mitigated",
        "vault-outage": "not covered",
        "key-expired": "prevents",
        "purged-with-backup": "prevents",
        "purged-without-backup": "prevents",
        "credentials-expired": "prevents",
    }


def test_provider_only_stack_says_the_vault_is_elsewhere() -> None:
    found = {a.scenario.id: (a.verdict, a.why)
             for a in risks_run.assess_plan(parse_plan(snapshot("provider")))}
    assert found["current-key-deleted"] == (
        "not covered", "this stack has no vault or key: they live in the customer's stack, "
        "whose own view answers this")
    assert found["credentials-expired"][0] == "prevents"


def test_retention_and_purge_protection_come_from_the_plan() -> None:
    def shorter(inputs: dict[str, Any]) -> None:
        inputs["properties"]["softDeleteRetentionInDays"] = 30

    assert verdicts(edit(snapshot("dev"), t.VAULT, shorter))["current-key-deleted"] == (
        "recoverable within 30 days")

    def unprotected(inputs: dict[str, Any]) -> None:
        del inputs["properties"]["enablePurgeProtection"]

    found = verdicts(edit(snapshot("dev"), t.VAULT, unprotected))
    assert (found["current-key-deleted"], found["purged-with-backup"],
            found["purged-without-backup"]) == ("not covered", "mitigated", "not covered")


def test_an_open_firewall_leaves_a_compromised_key_not_covered() -> None:
    def opened(inputs: dict[str, Any]) -> None:
        inputs["properties"]["networkAcls"]["defaultAction"] = "Allow"

    assert verdicts(edit(snapshot("dev"), t.VAULT, opened))["key-compromised"] == "not covered"


def test_keys_without_rotation_that_expire_are_not_covered() -> None:
    def no_rotation(inputs: dict[str, Any]) -> None:
        del inputs["properties"]["rotationPolicy"]

    assert verdicts(edit(snapshot("dev"), t.KEY, no_rotation))["key-expired"] == "not covered"


def test_a_mandatory_violation_turns_prevents_into_mitigated() -> None:
    def wrong_audience(inputs: dict[str, Any]) -> None:
        inputs["audiences"] = ["api://other"]

    digest = edit(snapshot("dev"), t.FEDERATED_CREDENTIAL, wrong_audience)
    [credentials] = [a for a in risks_run.assess_plan(parse_plan(digest))
                     if a.scenario.id == "credentials-expired"]
    assert credentials.verdict == "mitigated"
    assert credentials.why.endswith("; policy federated-credential-claims fails")
    assert [r.policy for r in credentials.results] == ["federated-credential-claims"]


def test_json_and_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["risks", "--plan", str(ROOT / "plans" / "customer.json"),
                     "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in document["scenarios"]][:2] == ["lock-removed", "current-key-deleted"]
    assert set(document["scenarios"][0]) == {"id", "scenario", "impact", "verdict", "why",
                                             "policies"}


def test_unreadable_plan_and_unknown_stack_exit_2() -> None:
    err = io.StringIO()
    assert risks_run.run(None, "/nonexistent.json", "text", io.StringIO(), err) == 2
    assert err.getvalue() == ("cmkctl risks: /nonexistent.json: No such file or directory\n")
    err = io.StringIO()
    assert risks_run.run("nosuch", None, "text", io.StringIO(), err) == 2
    assert err.getvalue().startswith("cmkctl risks: nosuch: no stack file Pulumi.nosuch.yaml")
