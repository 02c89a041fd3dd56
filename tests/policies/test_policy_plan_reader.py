"""Reading PreviewDigest steps: validation, encodings, every step kept, the resources after."""

from __future__ import annotations

import codecs
import json
import math
from pathlib import Path
from typing import Any

import pytest

from cmkctl.plan.reader import PlanError, decode, load_steps, read_plan, read_steps
from tests.policies.cmk_plan_fixtures import UNKNOWN

VAULT = "urn:pulumi:dev::p::azure-native:keyvault:Vault::kv"


def _state(inputs: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"urn": VAULT, "type": "azure-native:keyvault:Vault", "inputs": inputs,
            "outputs": outputs if outputs is not None else {}}


def test_deleted_resources_are_left_out_of_the_resources_but_kept_as_steps() -> None:
    steps = [{"op": "same", "urn": VAULT, "oldState": _state({"a": 1}),
              "newState": _state({"a": 1})},
             {"op": "delete", "urn": VAULT, "oldState": _state({"a": 1})}]
    assert read_plan({"steps": steps}) == []
    same, delete = read_steps({"steps": steps})
    assert (same.op, delete.op, delete.new_state, delete.old_state is not None) == (
        "same", "delete", None, True)
    assert delete.type == "azure-native:keyvault:Vault"


def test_a_replacement_keeps_the_new_state_and_its_reasons() -> None:
    steps = [{"op": "replace", "urn": VAULT, "oldState": _state({"a": 1}),
              "newState": _state({"a": 2}), "diffReasons": ["a"], "replaceReasons": ["a"],
              "detailedDiff": {"a": {"kind": "update-replace", "inputDiff": True}}},
             {"op": "delete-replaced", "urn": VAULT, "oldState": _state({"a": 1})}]
    (resource,) = read_plan({"steps": steps})
    assert resource.inputs == {"a": 2} and resource.name == "kv"
    replace = read_steps({"steps": steps})[0]
    assert (replace.diff_reasons, replace.replace_reasons, replace.detailed_diff) == (
        ("a",), ("a",), {"a": {"kind": "update-replace", "inputDiff": True}})


def test_a_discarded_read_leaves_the_stack() -> None:
    steps = [{"op": "discard", "urn": VAULT, "oldState": _state({"a": 1})}]
    assert read_plan({"steps": steps}) == []
    assert read_steps({"steps": steps})[0].op == "discard"


def test_secrets_become_unknown_and_missing_outputs_fall_back_to_inputs() -> None:
    (resource,) = read_plan({"steps": [{"op": "create", "urn": VAULT, "newState": _state(
        {"p": {"list": ["[secret]", "x"]}})}]})
    assert resource.inputs == {"p": {"list": [UNKNOWN, "x"]}} == resource.outputs


def test_outputs_win_when_present() -> None:
    (resource,) = read_plan({"steps": [{"op": "update", "urn": VAULT, "oldState": _state({}),
                                         "newState": _state({"a": 1}, {"b": 2})}]})
    assert resource.outputs == {"b": 2}


@pytest.mark.parametrize(("state", "problem"), [
    ({"dependencies": "x"}, "newState.dependencies is not a list of URNs"),
    ({"dependencies": ["not-a-urn"]}, "newState.dependencies is not a list of URNs"),
    ({"propertyDependencies": {"scope": [1]}},
     "newState.propertyDependencies.scope is not a list of URNs"),
    ({"propertyDependencies": []}, "newState.propertyDependencies is not an object"),
    ({"protect": 1}, "newState.protect is 1, not a boolean"),
    ({"retainOnDelete": "true"}, "newState.retainOnDelete is 'true', not a boolean"),
    ({"parent": 3}, "newState.parent is not a string"),
    ({"outputs": "x"}, "newState.outputs is not an object"),
])
def test_malformed_states_are_plan_errors_naming_the_field(state: dict[str, Any],
                                                          problem: str) -> None:
    with pytest.raises(PlanError) as caught:
        read_plan({"steps": [{"op": "create", "urn": VAULT, "newState": {**_state({}), **state}}]})
    assert str(caught.value) == f"steps[0] (create {VAULT}).{problem}"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_plans_are_read_in_every_encoding_windows_writes(tmp_path: Path, encoding: str) -> None:
    plan = {"steps": [{"op": "create", "urn": VAULT, "newState": _state({"n": "ü"})}]}
    data = json.dumps(plan, ensure_ascii=False).encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    path = tmp_path / "plan.json"
    path.write_bytes(data)
    (step,) = load_steps(str(path))
    assert step.new_state is not None and step.new_state.inputs == {"n": "ü"}


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(encoding: str) -> None:
    assert decode('{"steps": []}'.encode(encoding)) == {"steps": []}


def test_bytes_that_are_not_utf8_are_refused_with_a_hint() -> None:
    with pytest.raises(PlanError, match="save the plan as UTF-8 or UTF-16 with a byte-order mark"):
        decode(b'{"steps": "\xff"}')


def test_nan_and_infinity_stay_numbers_for_the_rules_to_judge() -> None:
    text = json.dumps({"steps": [{"op": "create", "urn": VAULT, "newState": _state(
        {"a": math.nan, "b": -math.inf})}]})
    assert "NaN" in text
    (resource,) = read_plan(decode(text.encode()))
    assert math.isnan(resource.inputs["a"]) and resource.inputs["b"] == -math.inf
