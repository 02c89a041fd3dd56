"""A secret key's value never appears in any message, whatever the error kind."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.config.keys import KNOWN_KEYS
from components.config.problems import ConfigError
from components.config.stack import load
from tests.test_config import CUSTOMER, PROVIDER

MARK = "zq"
"""Every generated secret starts with it, so no fixed message text can contain the value."""
_SECRETS = st.one_of(
    st.text(min_size=3, max_size=30).map(lambda t: MARK + t),
    st.text(min_size=1, max_size=20).map(lambda t: f"  {MARK}{t}  "),  # surrounding spaces
    st.lists(st.text(max_size=8).map(lambda t: MARK + t), min_size=1, max_size=3).map(json.dumps),
    st.sampled_from([f"{MARK}'\"\\x", f"{MARK}\n{MARK}", f"{MARK.upper()}CASE", f'["{MARK}a"]',
                     f'{{"name": "{MARK}x"}}']),
)
_OTHERS = st.sampled_from(["", "true", "x", "[]", '["storage"]', "99999", "kv--bad", "2020-01-01"])


def rendered_errors(raw: dict[str, str], secret: str) -> str:
    try:
        load(raw, secret_keys=frozenset({secret}))
    except ConfigError as error:
        return error.render()
    return ""


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(KNOWN_KEYS)), _SECRETS, st.sampled_from([CUSTOMER, PROVIDER]),
       st.dictionaries(st.sampled_from(sorted(KNOWN_KEYS)), _OTHERS, max_size=4))
def test_a_secret_value_never_appears_in_any_error(
    key: str, value: str, base: dict[str, str], others: dict[str, str]
) -> None:
    raw = {**base, **others, key: value}
    text = rendered_errors(raw, key)
    for form in {value, value.strip(), *_json_strings(value)}:
        if MARK in form.lower():
            assert form.lower() not in text.lower()


def _json_strings(value: str) -> list[str]:
    try:
        decoded = json.loads(value)
    except ValueError:
        return []
    if isinstance(decoded, list):
        return [v for v in decoded if isinstance(v, str)]
    return [str(v) for v in decoded.values()] if isinstance(decoded, dict) else []


ERROR_KINDS = [
    ("choice", "vaultSku", f"{MARK}-gold", "the value given is not one of standard, premium"),
    ("integer", "vaultRetentionDays", f"{MARK}90", "the value given is not a whole number"),
    ("range", "vaultRetentionDays", "12345", "the value given is outside the allowed range 7-90"),
    ("boolean", "protectKeyMaterial", f"{MARK}yes", "the value given is not true or false"),
    ("list", "vaultIpRules", f"{MARK}-not-a-list", "the value given is not a list"),
    ("list of strings", "vaultIpRules", f'[1, "{MARK}"]',
     "the value given is not a list of strings"),
    ("check", "vaultName", f"  {MARK}--bad  ",
     "vaultName: the value given contains '--', which Key Vault names may not"),
]


@pytest.mark.parametrize(("key", "value", "expected"), [k[1:] for k in ERROR_KINDS],
                         ids=[k[0] for k in ERROR_KINDS])
def test_each_error_kind_says_the_value_given(key: str, value: str, expected: str) -> None:
    text = rendered_errors({**CUSTOMER, key: value}, key)
    assert expected in text
    assert value.strip() not in text
