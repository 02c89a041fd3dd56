"""Reading PreviewDigest steps into the resources a stack holds after the update."""

from __future__ import annotations

from typing import Any

import pytest

from cmkctl.plan_reader import PlanError, read_plan
from tests.policies.cmk_plan_fixtures import UNKNOWN

VAULT = "urn:pulumi:dev::p::azure-native:keyvault:Vault::kv"


def _state(inputs: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"urn": VAULT, "type": "azure-native:keyvault:Vault", "inputs": inputs,
            "outputs": outputs if outputs is not None else {}}


def test_deleted_resources_are_left_out() -> None:
    steps = [{"op": "same", "urn": VAULT, "newState": _state({"a": 1})},
             {"op": "delete", "urn": VAULT, "oldState": _state({"a": 1})}]
    assert read_plan({"steps": steps}) == []


def test_a_replacement_keeps_the_new_state() -> None:
    steps = [{"op": "create-replacement", "urn": VAULT, "newState": _state({"a": 2})},
             {"op": "replace", "urn": VAULT, "newState": _state({"a": 2})},
             {"op": "delete-replaced", "urn": VAULT, "oldState": _state({"a": 1})}]
    (resource,) = read_plan({"steps": steps})
    assert resource.inputs == {"a": 2} and resource.name == "kv"


def test_secrets_become_unknown_and_missing_outputs_fall_back_to_inputs() -> None:
    (resource,) = read_plan({"steps": [{"op": "create", "newState": _state(
        {"p": {"list": ["[secret]", "x"]}})}]})
    assert resource.inputs == {"p": {"list": [UNKNOWN, "x"]}} == resource.outputs


def test_outputs_win_when_present() -> None:
    (resource,) = read_plan({"steps": [{"op": "update", "newState": _state({"a": 1},
                                                                          {"b": 2})}]})
    assert resource.outputs == {"b": 2}


@pytest.mark.parametrize("state", [
    {"urn": VAULT, "type": "t", "dependencies": "x"},
    {"urn": VAULT, "type": "t", "propertyDependencies": {"scope": [1]}},
    {"urn": VAULT, "type": "t", "propertyDependencies": []},
])
def test_malformed_states_are_plan_errors(state: dict[str, Any]) -> None:
    with pytest.raises(PlanError):
        read_plan({"steps": [{"op": "create", "newState": state}]})
