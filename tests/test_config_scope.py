"""Keys that do nothing in a stack's mode, or without the setting they need, are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config.keys import KEYS, Mode
from components.config.problems import ConfigError
from components.config.stack import load

ROOT = Path(__file__).resolve().parent.parent

CUSTOMER = {
    "customerTenantId": "8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21",
    "customerSubscriptionId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    "customerLocation": "westeurope",
    "customerResourceGroup": "rg-contoso-cmk",
    "vaultName": "kv-contoso-cmk",
}
PROVIDER = {
    "providerTenantId": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    "providerSubscriptionId": "3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a",
    "providerLocation": "westeurope",
    "providerResourceGroup": "rg-saas",
}
BASE = {
    Mode.BOTH: {"mode": "both", **CUSTOMER, **PROVIDER},
    Mode.CUSTOMER: {"mode": "customer", **CUSTOMER,
                    "providerAppClientId": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"},
    Mode.PROVIDER: {"mode": "provider", **PROVIDER},
}
SIDE = {
    frozenset({Mode.BOTH, Mode.CUSTOMER}): "a customer-side key (the vault and keys exist only "
    "in mode both or customer)",
    frozenset({Mode.BOTH, Mode.PROVIDER}): "a provider-side key (the app, identity and bindings "
    "exist only in mode both or provider)",
    frozenset({Mode.CUSTOMER}): "a key of split customer stacks only (mode customer)",
    frozenset({Mode.PROVIDER}): "a key of split provider stacks only (mode provider)",
    frozenset({Mode.BOTH}): "a key of one-stack set-ups only (mode both)",
}
MISPLACED = [(key, mode) for key in sorted(KEYS) for mode in Mode if mode not in KEYS[key].modes]


def test_every_mode_takes_its_base_config() -> None:
    for mode, raw in BASE.items():
        assert load(raw).mode is mode


@pytest.mark.parametrize(("key", "mode"), MISPLACED, ids=[f"{k}-in-{m}" for k, m in MISPLACED])
def test_a_key_of_another_mode_is_refused_naming_the_mode(key: str, mode: Mode) -> None:
    with pytest.raises(ConfigError) as caught:
        load({**BASE[mode], key: "any value"})
    assert [p.render() for p in caught.value.problems] == [
        f"dedicated-cmk:{key}: has no effect in this stack (mode {mode.value}): it is "
        f"{SIDE[KEYS[key].modes]}\n    fix: pulumi config rm {key}"
    ]


def test_at_least_forty_misplacements_are_covered() -> None:
    assert len(MISPLACED) >= 40


NEEDLESS = [
    ("storageSku", Mode.PROVIDER, "Standard_LRS", "storageAccountName is set",
     "set storageAccountName"),
    ("sqlAdminLogin", Mode.BOTH, "admins", "sqlServerName is set", "set sqlServerName"),
    ("sqlAdminObjectId", Mode.PROVIDER, "4e5f6a7b-8c9d-4e0f-9a1b-3c4d5e6f7a8b",
     "sqlServerName is set", "set sqlServerName"),
    ("sqlAdminPrincipalType", Mode.BOTH, "User", "sqlServerName is set", "set sqlServerName"),
    ("diskEncryptionType", Mode.PROVIDER, "EncryptionAtRestWithPlatformAndCustomerKeys",
     "diskEncryptionSetName is set", "set diskEncryptionSetName"),
    ("storageKeyUri", Mode.PROVIDER, "https://kv-a.vault.azure.net/keys/k",
     "storageAccountName is set", "set storageAccountName"),
    ("sqlKeyUri", Mode.PROVIDER, "https://kv-a.vault.azure.net/keys/k", "sqlServerName is set",
     "set sqlServerName"),
    ("diskKeyUri", Mode.PROVIDER, "https://kv-a.vault.azure.net/keys/k",
     "diskEncryptionSetName is set", "set diskEncryptionSetName"),
    ("vaultLocation", Mode.PROVIDER, "westeurope", "diskEncryptionSetName is set",
     "set diskEncryptionSetName"),
    ("appFederatedCredentialsElsewhere", Mode.PROVIDER, "3", "providerAppClientId is set",
     "set providerAppClientId"),
    ("keyVersionPolicy", Mode.PROVIDER, "pinned",
     "storageAccountName or sqlServerName or diskEncryptionSetName, one of them set",
     "set storageAccountName or sqlServerName or diskEncryptionSetName"),
    ("customerStack", Mode.PROVIDER, "acme/dedicated-cmk/customer",
     "storageAccountName or sqlServerName or diskEncryptionSetName or snowflakeAccountName, "
     "one of them set",
     "set storageAccountName or sqlServerName or diskEncryptionSetName or snowflakeAccountName"),
    ("rolePropagationSeconds", Mode.BOTH, "60",
     "storageAccountName or sqlServerName or diskEncryptionSetName or snowflakeAccountName, "
     "one of them set",
     "set storageAccountName or sqlServerName or diskEncryptionSetName or snowflakeAccountName"),
    ("snowflakeKeyUri", Mode.PROVIDER, "https://kv-a.vault.azure.net/keys/k",
     "snowflakeAccountName is set", "set snowflakeAccountName"),
    ("snowflakeUser", Mode.PROVIDER, "CMK_ADMIN", "snowflakeAccountName is set",
     "set snowflakeAccountName"),
]


@pytest.mark.parametrize(("key", "mode", "value", "needs", "fix"), NEEDLESS,
                         ids=[n[0] for n in NEEDLESS])
def test_a_key_without_the_setting_it_needs_is_refused(key: str, mode: Mode, value: str,
                                                       needs: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load({**BASE[mode], key: value})
    assert [p.render() for p in caught.value.problems] == [
        f"dedicated-cmk:{key}: has no effect unless {needs}\n"
        f"    fix: pulumi config rm {key} (or {fix})"
    ]


@pytest.mark.parametrize("key", ["vaultIpRules", "vaultSubnetIds"])
def test_firewall_rules_on_a_vault_closed_to_the_public_are_refused(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load({**BASE[Mode.CUSTOMER], "vaultPublicNetworkAccess": "Disabled", key: '["x"]'})
    assert [p.render() for p in caught.value.problems] == [
        f"dedicated-cmk:{key}: has no effect unless vaultPublicNetworkAccess is Enabled\n"
        f"    fix: pulumi config rm {key} (or pulumi config set vaultPublicNetworkAccess Enabled)"
    ]


def test_a_misplaced_key_is_reported_once_and_not_validated_further() -> None:
    with pytest.raises(ConfigError) as caught:
        load({**BASE[Mode.PROVIDER], "keySize": "banana", "vaultName": "kv--bad"})
    assert [p.key for p in caught.value.problems] == ["keySize", "vaultName"]


GROUPS = [
    (frozenset(Mode), "every mode"),
    (frozenset({Mode.BOTH, Mode.CUSTOMER}), "`both`, `customer`"),
    (frozenset({Mode.CUSTOMER}), "`customer` only"),
    (frozenset({Mode.BOTH, Mode.PROVIDER}), "`both`, `provider`"),
    (frozenset({Mode.PROVIDER}), "`provider` only"),
    (frozenset({Mode.BOTH}), "`both` only"),
]


def keys_per_mode_table() -> str:
    """The Markdown table docs/configuration.md carries, rendered from ``KEYS``."""
    rows = ["| modes | keys |", "|---|---|"]
    for modes, label in GROUPS:
        names = []
        for key, scope in KEYS.items():
            if scope.modes != modes:
                continue
            needs = scope.needs
            if needs is None:
                names.append(f"`{key}`")
            elif needs.value is not None:
                names.append(f"`{key}` (if `{needs.keys[0]}` is `{needs.value}`)")
            else:
                names.append(f"`{key}` (with {' or '.join(f'`{k}`' for k in needs.keys)})")
        rows.append(f"| {label} | {', '.join(names)} |")
    return "\n".join(rows) + "\n"


def test_configuration_reference_lists_the_keys_each_mode_takes() -> None:
    assert {m for m, _ in GROUPS} >= {s.modes for s in KEYS.values()}
    doc = "docs/configuration.md"
    assert keys_per_mode_table() in (ROOT / doc).read_text(), f"{doc}: paste keys_per_mode_table()"
