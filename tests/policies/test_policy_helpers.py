"""Shared helpers: reference parsing, durations, unknown-aware reads and the schema subset."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pulumi_policy.proxy import unknown_checking_proxy

from cmkctl.check.pack_config import schema_errors
from policies.azure_refs import KeyMaterialRef, arm_ref, issuer_tenant, key_url_ref, role_guid
from policies.props import UNKNOWN, all_of, any_of, elements, get
from policies.rules.key_rotation_policy import duration_days

NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{1,22}", fullmatch=True)
VERSION = st.from_regex(r"[0-9a-f]{32}", fullmatch=True)


@given(NAMES, NAMES, VERSION)
def test_key_urls_name_vault_key_and_version(vault: str, key: str, version: str) -> None:
    base = f"https://{vault}.vault.azure.net/keys/{key}"
    assert key_url_ref(base) == KeyMaterialRef(vault.lower(), key.lower())
    assert key_url_ref(f"{base}/{version}") == KeyMaterialRef(vault.lower(), key.lower(), version)


@given(NAMES, NAMES)
def test_arm_ids_name_vaults_and_keys(vault: str, key: str) -> None:
    vault_id = f"/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/{vault}"
    assert arm_ref(vault_id) == KeyMaterialRef(vault.lower())
    assert arm_ref(f"{vault_id}/keys/{key}") == KeyMaterialRef(vault.lower(), key.lower())
    assert arm_ref(f"{vault_id}/secrets/{key}") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("https://kv.vault.azure.net/secrets/k", None),
    ("https://kv.vault.usgovcloudapi.net/keys/k/v1", KeyMaterialRef("kv", "k", "v1")),
    ("http://kv.vault.azure.net/keys/k", None),
])
def test_key_url_edge_cases(text: str, expected: KeyMaterialRef | None) -> None:
    assert key_url_ref(text) == expected


def test_role_and_issuer_parsing() -> None:
    guid = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
    assert role_guid(f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{guid}"
                     ) == guid
    assert role_guid(guid.upper()) == guid
    assert role_guid("Owner") is None
    tenant = "11111111-1111-4111-8111-111111111111"
    assert issuer_tenant(f"https://login.microsoftonline.com/{tenant}/v2.0") == tenant
    assert issuer_tenant(f"https://login.microsoftonline.com/{tenant}/") is None


@pytest.mark.parametrize(("text", "days"), [
    ("P90D", 90), ("P1Y", 365), ("P6M", 180), ("P2W", 14), ("P1Y2M3D", 428),
    ("P", None), ("PT12H", None), ("90", None),
])
def test_iso_durations(text: str, days: int | None) -> None:
    assert duration_days(text) == days


def test_reads_through_the_engine_proxy_turn_unknowns_into_markers() -> None:
    props = unknown_checking_proxy({"a": {"b": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
                                    "l": ["x", "04da6b54-80e4-46f7-96ec-b56ff0331ba9"]})
    assert get(props, "a", "b") is UNKNOWN
    assert get(props, "a", "b", "c") is UNKNOWN
    assert get(props, "missing", "c") is None
    assert elements(get(props, "l")) == ["x", UNKNOWN]


def test_three_valued_logic() -> None:
    assert all_of(True, None) is None and all_of(None, False) is False
    assert any_of([False, None]) is None and any_of([None, True]) is True
    assert any_of([]) is False


@pytest.mark.parametrize(("value", "schema", "errors"), [
    (True, {"type": "integer"}, ["x must be of type integer"]),
    ([1, 1], {"type": "array", "uniqueItems": True}, ["x has duplicate items"]),
    ([], {"type": "array", "minItems": 1}, ["x needs at least 1 item(s)"]),
    ({"a": 1}, {"type": "object", "required": ["b"]}, ["x.b is required"]),
    ({"a": "1"}, {"type": "object", "additionalProperties": {"type": "integer"}},
     ["x.a must be of type integer"]),
    (91, {"type": "integer", "maximum": 90}, ["x must be <= 90"]),
])
def test_schema_subset(value: object, schema: dict[str, object], errors: list[str]) -> None:
    assert schema_errors(value, schema, "x") == errors


def test_unsupported_schema_keywords_are_refused() -> None:
    with pytest.raises(ValueError, match="oneOf"):
        schema_errors(1, {"oneOf": []}, "x")
