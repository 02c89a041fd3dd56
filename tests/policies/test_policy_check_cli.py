"""``cmkctl.check.run.run``: exit codes, output shapes, configuration handling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cmkctl.cli import main
from policies.pack import build_policies
from tests.policies.cmk_plan_fixtures import (
    UNKNOWN,
    baseline,
    build_plan,
    check_output,
    edit,
    names,
    without,
)

COMPLIANT = baseline()
BROKEN = edit(without(COMPLIANT, "key-lock"), "kv", "properties.enableSoftDelete", False)


RULES = len(build_policies()) + 1
"""The pack's rules and no-destructive-changes, which only cmkctl check evaluates."""


def _write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_compliant_plan_exits_0_with_one_json_object(tmp_path: Path) -> None:
    code, out = check_output(_write(tmp_path, "plan.json", build_plan(COMPLIANT)), None, "json")
    document = json.loads(out)
    assert code == 0
    assert set(document) == {"violations", "summary"}
    assert document["violations"] == []
    assert document["summary"] == {"mandatory": 0, "advisory": 0, "undecided": 0,
                                   "undecidedMandatory": 0, "policies": RULES,
                                   "resources": len(COMPLIANT) + 1}


def test_mandatory_violations_exit_1_and_name_policy_and_urn(tmp_path: Path) -> None:
    code, out = check_output(_write(tmp_path, "plan.json", build_plan(BROKEN)), None, "json")
    violations = json.loads(out)["violations"]
    assert code == 1
    assert all(set(v) == {"policy", "urn", "enforcementLevel", "undecided", "ruleLevel",
                          "message"} for v in violations)
    found = {(v["policy"], v["urn"], v["enforcementLevel"]) for v in violations}
    kv, key = sorted(names(BROKEN, "kv", "key"), key=lambda u: not u.endswith("::kv"))
    assert found == {("vault-soft-delete", kv, "mandatory"),
                     ("key-material-locks", key, "mandatory")}


def test_first_preview_undecided_verdicts_are_advisory(tmp_path: Path) -> None:
    plan = build_plan(COMPLIANT, first_preview=True)
    code, out = check_output(_write(tmp_path, "plan.json", plan), None, "json")
    document = json.loads(out)
    assert code == 0
    assert document["summary"]["undecided"] == len(document["violations"]) > 0
    assert all(v["enforcementLevel"] == "advisory"
               and v["message"].startswith("cannot be decided until apply")
               for v in document["violations"])


def test_unknown_mandatory_input_is_not_a_pass(tmp_path: Path) -> None:
    plan = build_plan(edit(COMPLIANT, "kv", "properties.enablePurgeProtection", UNKNOWN))
    code, out = check_output(_write(tmp_path, "plan.json", plan), None, "json")
    (violation,) = json.loads(out)["violations"]
    assert code == 0 and violation["policy"] == "vault-purge-protection"
    assert violation["enforcementLevel"] == "advisory"


def test_redacted_secret_cannot_be_decided(tmp_path: Path) -> None:
    plan = build_plan(edit(COMPLIANT, "sql", "federatedClientId", "[secret]"))
    _, out = check_output(_write(tmp_path, "plan.json", plan), None, "json")
    violations = json.loads(out)["violations"]
    assert {(v["policy"], v["undecided"]) for v in violations} == {
        ("sql-cross-tenant-cmk", True), ("binding-federated-client-id", True)}
    assert all("cannot be decided until apply" in v["message"] for v in violations)


@pytest.mark.parametrize(("config", "code", "levels"), [
    ({"vault-soft-delete": "disabled", "key-material-locks": "disabled"}, 0, set()),
    ({"all": "advisory"}, 0, {"advisory"}),
    ({"all": "advisory", "key-material-locks": {"enforcementLevel": "mandatory"}}, 1,
     {"advisory", "mandatory"}),
    ({"vault-soft-delete": "remediate", "key-material-locks": "advisory"}, 1,
     {"advisory", "mandatory"}),
])
def test_enforcement_levels_follow_the_configuration(tmp_path: Path, config: dict[str, Any],
                                                     code: int, levels: set[str]) -> None:
    plan_path = _write(tmp_path, "plan.json", build_plan(BROKEN))
    got, out = check_output(plan_path, _write(tmp_path, "config.json", config), "json")
    assert got == code
    assert {v["enforcementLevel"] for v in json.loads(out)["violations"]} == levels


def test_disabled_rules_are_not_counted(tmp_path: Path) -> None:
    plan_path = _write(tmp_path, "plan.json", build_plan(COMPLIANT))
    _, out = check_output(plan_path, _write(tmp_path, "c.json", {"key-expiry": "disabled"}),
                          "json")
    assert json.loads(out)["summary"]["policies"] == RULES - 1


def test_parameters_change_the_verdict(tmp_path: Path) -> None:
    plan_path = _write(tmp_path, "plan.json", build_plan(
        edit(COMPLIANT, "kv", "properties.softDeleteRetentionInDays", 30)))
    assert check_output(plan_path, None, "json")[0] == 1
    config = {"vault-soft-delete-retention": {"minRetentionDays": 30}}
    assert check_output(plan_path, _write(tmp_path, "c.json", config), "json")[0] == 0


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


_V = "urn:pulumi:dev::p::azure-native:keyvault:Vault::kv"
_VAULT_STATE = {"urn": _V, "type": "azure-native:keyvault:Vault", "inputs": {}}


@pytest.mark.parametrize(("content", "problem"), [
    ("{not json", "not valid JSON"),
    ({"steps": "nope"}, "steps is not a list"),
    ({"config": {}}, "no steps list"),
    ({"steps": []}, "the plan has no steps; an empty or truncated plan is never a pass"),
    ({"steps": [{"op": "create", "urn": _V, "newState": {"urn": _V}}]},
     f"steps[0] (create {_V}).newState.type is missing"),
    ({"steps": [{"op": "create", "urn": _V, "newState": {**_VAULT_STATE, "inputs": []}}]},
     f"steps[0] (create {_V}).newState.inputs is not an object"),
    ({"steps": [{"op": "create", "urn": _V}]},
     f"steps[0] (create {_V}) has no newState, which a create step requires"),
    ({"steps": [{"op": "create", "urn": _V, "newState": None}]},
     f"steps[0] (create {_V}) has no newState, which a create step requires"),
    ({"steps": [{"op": "delete", "urn": _V, "newState": _VAULT_STATE}]},
     f"steps[0] (delete {_V}) has no oldState, which a delete step requires"),
    ({"steps": [{"op": "update", "urn": _V, "newState": _VAULT_STATE}]},
     f"steps[0] (update {_V}) has no oldState, which a update step requires"),
    ({"steps": [{"urn": _V, "newState": _VAULT_STATE}]}, "steps[0] has op None; expected one of"),
    ({"steps": [{"op": "explode", "urn": _V, "newState": _VAULT_STATE}]},
     "steps[0] has op 'explode'; expected one of"),
    ({"steps": [{"op": "create", "urn": "kv", "newState": _VAULT_STATE}]},
     "steps[0] (create) has URN 'kv', which is not urn:pulumi:<stack>::<project>::<type>::<name>"),
    ({"steps": [{"op": "create", "urn": _V, "newState": {**_VAULT_STATE, "protect": "false"}}]},
     f"steps[0] (create {_V}).newState.protect is 'false', not a boolean"),
    ({"steps": [{"op": "create", "urn": _V, "newState": {**_VAULT_STATE, "urn": _V + "x"}}]},
     "differs from the step's URN"),
    ('{"steps": [], "steps": []}', "key 'steps' appears twice in one object"),
    ("[" * 5000 + "]" * 5000, "nests deeper than 64 levels"),
    ({"steps": [{"op": "create", "urn": _V, "newState": {**_VAULT_STATE, "inputs": _nested(70)}}]},
     "newState.inputs nests deeper than 64 levels"),
])
def test_unusable_plan_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            content: Any, problem: str) -> None:
    path = _write(tmp_path, "plan.json", content)
    code, out = check_output(path, None, "json")
    err = capsys.readouterr().err
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and path in err and problem in err


def test_missing_plan_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "absent.json")
    assert check_output(path, None, "text") == (2, "")
    assert path in capsys.readouterr().err


@pytest.mark.parametrize(("config", "problem"), [
    ({"no-such-rule": "mandatory"}, "unknown policy 'no-such-rule'"),
    ({"all": "strict"}, "enforcement level must be one of"),
    ({"vault-soft-delete-retention": {"minRetentionDays": 5}}, "must be >= 7"),
    ({"vault-soft-delete-retention": {"minRetentionDays": "90"}}, "must be of type integer"),
    ({"key-type-and-size": {"allowedKeySizes": [1024]}}, "must be one of"),
    ({"key-type-and-size": {"maxSize": 1}}, "maxSize is not a known property"),
    ({"consumed-key-size-per-service": {"serviceKeySizes": {"hsm": [2048]}}},
     "hsm is not a known property"),
    ({"provider-grant-least-privilege": {"allowedRoleDefinitionIds": ["Owner"]}},
     "must match"),
    ([], "must be a JSON object"),
])
def test_bad_configuration_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   config: Any, problem: str) -> None:
    plan_path = _write(tmp_path, "plan.json", build_plan(COMPLIANT))
    config_path = _write(tmp_path, "config.json", config)
    assert check_output(plan_path, config_path, "json") == (2, "")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and config_path in err and problem in err


def test_text_format_lists_violations_and_a_summary(tmp_path: Path) -> None:
    code, out = check_output(_write(tmp_path, "plan.json", build_plan(BROKEN)), None, "text")
    assert code == 1
    assert "[mandatory] vault-soft-delete: properties.enableSoftDelete is false" in out
    assert out.rstrip().endswith(f"{RULES} policies on {len(BROKEN) + 1} resources.")
    assert out.rstrip().splitlines()[-1].startswith("2 mandatory and 0 advisory")


def test_unknown_format_exits_2(tmp_path: Path) -> None:
    plan_path = _write(tmp_path, "plan.json", build_plan(COMPLIANT))
    assert check_output(plan_path, None, "yaml") == (2, "")



def test_the_cli_runs_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m cmkctl check`` reaches :func:`cmkctl.check.run.run` with its options."""
    plan_path = _write(tmp_path, "plan.json", build_plan(BROKEN))
    assert main(["check", "--plan", plan_path, "--format", "json"]) == 1
    assert len(json.loads(capsys.readouterr().out)["violations"]) == 2
