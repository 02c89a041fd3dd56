"""``no-destructive-changes`` and ``--strict``: what only ``cmkctl check`` can see."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.policies.cmk_plan_fixtures import (
    UNKNOWN,
    baseline,
    build_plan,
    check_output,
    edit,
    names,
)

B = baseline()
RULE = "no-destructive-changes"


def _as_update(plan: dict[str, Any], ops: dict[str, str],
               retained: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The applied ``plan`` previewed again: each named resource gets ``ops[name]``, the rest
    are ``same`` steps (old and new state equal)."""
    steps = []
    for step in plan["steps"]:
        state = copy.deepcopy(step["newState"])
        name = step["urn"].rsplit("::", 1)[-1]
        if name in retained:
            state["retainOnDelete"] = True
        op = ops.get(name, "same")
        if op == "delete":
            steps.append({"op": "delete", "urn": step["urn"], "oldState": state})
        else:
            steps.append({"op": op, "urn": step["urn"], "oldState": state,
                          "newState": copy.deepcopy(state)})
    return {**plan, "steps": steps, "changeSummary": dict(Counter(s["op"] for s in steps))}


def _check(tmp_path: Path, plan: dict[str, Any], *extra: str,
           config: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan))
    config_path = None
    if config is not None:
        config_path = str(tmp_path / "config.json")
        Path(config_path).write_text(json.dumps(config))
    code, out = check_output(str(plan_path), config_path, "json", *extra)
    return code, json.loads(out)


def _mine(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(v["urn"], v["enforcementLevel"]) for v in document["violations"]
            if v["policy"] == RULE}


def _expect(*wanted: str) -> set[tuple[str, str]]:
    return {(urn, "mandatory") for urn in names(B, *wanted)}


ALL_CMK = ("app", "uami", "fic", "sp", "kv", "key", "kv-lock", "key-lock", "grant", "st", "sql",
           "des")


def test_pass_same_steps_only(tmp_path: Path) -> None:
    code, document = _check(tmp_path, _as_update(build_plan(B), {}))
    assert (code, _mine(document)) == (0, set())


def test_fail_full_destroy_names_every_guarded_resource(tmp_path: Path) -> None:
    plan = _as_update(build_plan(B), {name: "delete" for name in
                                      (*ALL_CMK, "provider", "customer", "provider-arm")})
    code, document = _check(tmp_path, plan)
    assert (code, _mine(document)) == (1, _expect(*ALL_CMK))


def test_fail_vault_and_key_deleted_while_bindings_stay(tmp_path: Path) -> None:
    plan = _as_update(build_plan(B), {"kv": "delete", "key": "delete", "kv-lock": "delete",
                                      "key-lock": "delete", "grant": "delete"})
    code, document = _check(tmp_path, plan)
    assert (code, _mine(document)) == (1, _expect("kv", "key", "kv-lock", "key-lock", "grant",
                                                  "st", "sql", "des"))
    bound = [v["message"] for v in document["violations"]
             if v["policy"] == RULE and v["urn"] in names(B, "st")]
    assert bound == [f"st stays bound to key, whose key this plan deletes "
                     f"({min(names(B, 'key'))}); it loses its key within about 10 minutes."]


def test_fail_key_replaced_names_the_replace_and_its_bindings(tmp_path: Path) -> None:
    code, document = _check(tmp_path, _as_update(build_plan(B), {"key": "replace"}))
    assert (code, _mine(document)) == (1, _expect("key", "st", "sql", "des"))
    (message,) = [v["message"] for v in document["violations"] if v["urn"] in names(B, "key")]
    assert message.startswith("data-loss: replace of key: A replace creates a new key")


@pytest.mark.parametrize("op", ["delete-replaced", "create-replacement"])
def test_fail_each_replacement_step_spelling(tmp_path: Path, op: str) -> None:
    code, document = _check(tmp_path, _as_update(build_plan(B), {"des": op}))
    assert (code, _mine(document)) == (1, _expect("des"))


def test_pass_deleting_what_guards_no_key_material(tmp_path: Path) -> None:
    code, document = _check(tmp_path, _as_update(build_plan(B), {"provider": "delete"}))
    assert (code, _mine(document)) == (0, set())


def test_pass_a_retained_delete_only_leaves_the_stack(tmp_path: Path) -> None:
    plan = _as_update(build_plan(B), {"grant": "delete"}, retained=frozenset({"grant"}))
    assert _mine(_check(tmp_path, plan)[1]) == set()


def test_pass_read_and_discard_steps_are_not_deletions(tmp_path: Path) -> None:
    plan = _as_update(build_plan(B), {"kv": "discard", "key": "read"})
    assert _mine(_check(tmp_path, plan)[1]) == set()


def test_the_rule_can_be_lowered_to_advisory(tmp_path: Path) -> None:
    plan = _as_update(build_plan(B), {"grant": "delete"})
    _, document = _check(tmp_path, plan, config={RULE: "advisory"})
    assert _mine(document) == {(u, "advisory") for u in names(B, "grant")}
    _, disabled = _check(tmp_path, plan, config={RULE: "disabled"})
    assert _mine(disabled) == set()


def test_fail_a_deletion_of_a_versioned_spelling(tmp_path: Path) -> None:
    plan = _as_update(build_plan(B), {"kv": "delete"})
    for step in plan["steps"]:
        if step["op"] == "delete":
            step["oldState"]["type"] = "azure-native:keyvault/v20230701:Vault"
    assert _mine(_check(tmp_path, plan)[1]) >= _expect("kv")


def test_strict_fails_when_a_mandatory_rule_cannot_decide(tmp_path: Path) -> None:
    plan = build_plan(edit(B, "kv", "properties.enablePurgeProtection", "[secret]"))
    code, document = _check(tmp_path, plan)
    (undecided,) = [v for v in document["violations"] if v["undecided"]]
    assert code == 0 and undecided["policy"] == "vault-purge-protection"
    assert undecided["message"] == ("cannot be decided until apply: "
                                    "properties.enablePurgeProtection is unknown ([secret] or "
                                    "known only after apply)")
    assert (undecided["enforcementLevel"], undecided["ruleLevel"]) == ("advisory", "mandatory")
    strict_code, strict = _check(tmp_path, plan, "--strict")
    assert (strict_code, strict["summary"]["undecidedMandatory"]) == (1, 1)


def test_strict_passes_when_only_advisory_rules_are_undecided(tmp_path: Path) -> None:
    plan = build_plan(edit(B, "key", "properties.rotationPolicy", UNKNOWN))
    assert _check(tmp_path, plan, "--strict")[0] == 0


def test_strict_fails_a_plan_that_leaves_out_unchanged_resources(tmp_path: Path) -> None:
    plan = build_plan(B)
    plan["changeSummary"] = {"create": len(plan["steps"]), "same": 5}
    code, document = _check(tmp_path, plan)
    (note,) = [v for v in document["violations"] if v["policy"] == "plan-lists-every-resource"]
    assert (code, note["undecided"], note["ruleLevel"]) == (0, True, "mandatory")
    assert "5 unchanged resource(s)" in note["message"] and "--show-sames" in note["message"]
    assert _check(tmp_path, plan, "--strict")[0] == 1
    plan["steps"] += [{"op": "same", "urn": f"urn:pulumi:dev::p::t:m:T::r{i}",
                       "oldState": {"type": "t:m:T"}, "newState": {"type": "t:m:T"}}
                      for i in range(5)]
    assert _check(tmp_path, plan, "--strict")[0] == 0


def test_fail_a_deletion_of_a_classic_azure_vault(tmp_path: Path) -> None:
    urn = "urn:pulumi:dev::p::azure:keyvault/keyVault:KeyVault::classic"
    plan = _as_update(build_plan(B), {})
    plan["steps"].append({"op": "delete", "urn": urn, "oldState": {
        "urn": urn, "type": "azure:keyvault/keyVault:KeyVault", "inputs": {"name": "kv"}}})
    assert _mine(_check(tmp_path, plan)[1]) == {(urn, "mandatory")}
