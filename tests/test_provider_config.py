"""Provider-side config: what it yields, and every refusal with its key, reason and fix."""

from __future__ import annotations

import pytest

from components.config.common import Service
from components.config.key_uri import parse_key_uri
from components.config.problems import ConfigError
from components.config.provider import ProviderConfig
from components.config.stack import load
from tests.stacks import run_stack

VERSION = "a" * 32
SHARED_APP = "9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
ADMIN = "4e5f6a7b-8c9d-4e0f-9a1b-3c4d5e6f7a8b"
PROVIDER = {
    "mode": "provider",
    "providerTenantId": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    "providerSubscriptionId": "3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a",
    "providerLocation": "westeurope",
    "providerResourceGroup": "rg-saas",
}
SQL = {"sqlServerName": "sql-x", "sqlAdminLogin": "admins", "sqlAdminObjectId": ADMIN}
VERSIONLESS = "https://kv-a.vault.azure.net/keys/k"
VERSIONED = f"{VERSIONLESS}/{VERSION}"
PLACEHOLDER_FIX = "https://<vault>.vault.azure.net/keys/<name>/<version>"


def provider(**overrides: str) -> ProviderConfig:
    config = load({**PROVIDER, **overrides})
    assert config.provider is not None
    return config.provider


def problems(**overrides: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load({**PROVIDER, **overrides})
    return [p.render() for p in caught.value.problems]


def test_identity_only_provider_stack_is_valid_before_the_customer_has_a_key() -> None:
    config = provider()
    assert config.bound_services == ()
    assert config.key_uris == {}
    assert config.app_client_id is None
    assert config.app_display_name == "dedicated-cmk-encryption"
    assert config.identity_name == "id-dedicated-cmk"
    assert config.follow_latest_key_version is True


def test_bindings_and_their_key_uris_are_read_per_service() -> None:
    config = provider(storageAccountName="stx", storageKeyUri=VERSIONLESS, **SQL,
                      sqlKeyUri=VERSIONED, diskEncryptionSetName="des-x",
                      diskKeyUri=VERSIONED, vaultLocation="West Europe",
                      diskEncryptionType="EncryptionAtRestWithPlatformAndCustomerKeys")
    assert config.bound_services == (Service.STORAGE, Service.SQL, Service.DISK)
    assert config.key_uris == {Service.STORAGE: parse_key_uri(VERSIONLESS),
                               Service.SQL: parse_key_uri(VERSIONED),
                               Service.DISK: parse_key_uri(VERSIONED)}
    assert config.storage is not None and config.storage.sku == "Standard_ZRS"
    assert config.sql is not None and config.sql.admin_principal_type == "Group"
    assert config.disk is not None
    assert config.disk.encryption_type == "EncryptionAtRestWithPlatformAndCustomerKeys"
    assert config.vault_location == "westeurope"


def test_existing_app_is_reused_by_lowercase_client_id() -> None:
    config = provider(providerAppClientId=SHARED_APP.upper(),
                      appFederatedCredentialsElsewhere="19")
    assert config.app_client_id == SHARED_APP


def test_both_mode_takes_the_vault_region_from_the_customer_side() -> None:
    rec = run_stack("dev", customerLocation="northeurope", providerLocation="northeurope")
    assert rec.get("azure-native:compute:DiskEncryptionSet",
                      "disk-encryption-set").inputs["location"] == "northeurope"


REFUSALS = [
    ("twenty-first federated credential",
     {"providerAppClientId": SHARED_APP, "appFederatedCredentialsElsewhere": "20"},
     f"dedicated-cmk:appFederatedCredentialsElsewhere: 20 credentials already on app {SHARED_APP} "
     "plus this stack's one would exceed the Entra limit of 20 per application\n"
     "    fix: register another multitenant app for these environments and set "
     "providerAppClientId to its client id"),
    ("credentials elsewhere on a new app", {"appFederatedCredentialsElsewhere": "3"},
     "dedicated-cmk:appFederatedCredentialsElsewhere: has no effect unless providerAppClientId "
     "is set\n    fix: pulumi config rm appFederatedCredentialsElsewhere "
     "(or set providerAppClientId)"),
    ("display name of an existing app",
     {"providerAppClientId": SHARED_APP, "providerAppDisplayName": "x"},
     "dedicated-cmk:providerAppDisplayName: is set together with providerAppClientId; an "
     "existing app keeps its own name\n    fix: pulumi config rm providerAppDisplayName"),
    ("disk set in another region than the vault",
     {"diskEncryptionSetName": "des-x", "diskKeyUri": VERSIONED, "vaultLocation": "northeurope"},
     "dedicated-cmk:providerLocation: disk encryption set region 'westeurope' differs from the "
     "vault region 'northeurope'; Azure requires the same region\n"
     "    fix: pulumi config set providerLocation northeurope"),
    ("disk set without the vault region",
     {"diskEncryptionSetName": "des-x", "diskKeyUri": VERSIONED},
     "dedicated-cmk:vaultLocation: is required with a disk encryption set in provider mode "
     "unless customerStack is set (disks need the vault in their region)\n"
     "    fix: pulumi config set vaultLocation <region>"),
    ("versionless disk key",
     {"diskEncryptionSetName": "des-x", "diskKeyUri": VERSIONLESS, "vaultLocation": "westeurope"},
     f"dedicated-cmk:diskKeyUri: {VERSIONLESS} has no version; a disk encryption set takes a "
     f"versioned key URL even when it rotates\n    fix: pulumi config set diskKeyUri "
     f"{PLACEHOLDER_FIX}"),
    ("versionless SQL key", {**SQL, "sqlKeyUri": VERSIONLESS},
     f"dedicated-cmk:sqlKeyUri: {VERSIONLESS} has no version; server keys are named "
     f"<vault>_<key>_<version>\n    fix: pulumi config set sqlKeyUri {PLACEHOLDER_FIX}"),
    ("versionless storage key while pinned",
     {"storageAccountName": "stx", "storageKeyUri": VERSIONLESS, "keyVersionPolicy": "pinned"},
     f"dedicated-cmk:storageKeyUri: {VERSIONLESS} has no version but keyVersionPolicy is pinned\n"
     f"    fix: pulumi config set storageKeyUri {PLACEHOLDER_FIX}"),
    ("binding without its key", {"storageAccountName": "stx"},
     "dedicated-cmk:storageKeyUri: is required in provider mode to bind storage (or set "
     "customerStack): the customer shares the versioned key URI\n"
     "    fix: pulumi config set storageKeyUri <key URI from the customer>"),
    ("stack reference and key URIs", {"storageAccountName": "stx", "storageKeyUri": VERSIONED,
                                      "customerStack": "acme/dedicated-cmk/customer"},
     "dedicated-cmk:customerStack: is set together with key URIs; use one source\n"
     "    fix: pulumi config rm customerStack"),
    ("propagation wait in a split stack", {"rolePropagationSeconds": "60"},
     "dedicated-cmk:rolePropagationSeconds: has no effect in this stack (mode provider): it is "
     "a key of one-stack set-ups only (mode both)\n"
     "    fix: pulumi config rm rolePropagationSeconds"),
    ("SQL admin type", {**SQL, "sqlKeyUri": VERSIONED, "sqlAdminPrincipalType": "Robot"},
     "dedicated-cmk:sqlAdminPrincipalType: 'Robot' is not one of Group, User, Application\n"
     "    fix: pulumi config set sqlAdminPrincipalType Group"),
    ("storage SKU", {"storageAccountName": "stx", "storageKeyUri": VERSIONED,
                     "storageSku": "Premium_LRS"},
     "dedicated-cmk:storageSku: 'Premium_LRS' is not one of Standard_ZRS, Standard_LRS, "
     "Standard_GRS, Standard_GZRS, Standard_RAGRS, Standard_RAGZRS\n"
     "    fix: pulumi config set storageSku Standard_ZRS"),
    ("binding of an unlisted service", {"services": '["sql"]', "storageAccountName": "stx",
                                        "storageKeyUri": VERSIONED},
     "dedicated-cmk:services: 'storage' is configured but not listed\n"
     "    fix: pulumi config set --path 'services[1]' storage"),
]


@pytest.mark.parametrize(("overrides", "expected"), [(o, e) for _, o, e in REFUSALS],
                         ids=[name for name, _, _ in REFUSALS])
def test_provider_config_refusal_names_key_reason_and_fix(overrides: dict[str, str],
                                                         expected: str) -> None:
    assert problems(**overrides) == [expected]


def test_sql_server_needs_its_entra_admin() -> None:
    assert problems(sqlServerName="sql-x") == [
        "dedicated-cmk:sqlAdminLogin: is required but not set (needed with sqlServerName: the "
        "server gets an Entra-only admin)\n    fix: pulumi config set sqlAdminLogin sql-admins",
        "dedicated-cmk:sqlAdminObjectId: is required but not set (needed with sqlServerName: the "
        "server gets an Entra-only admin)\n"
        "    fix: pulumi config set sqlAdminObjectId <group object id>",
    ]


def test_storage_may_follow_a_versionless_key() -> None:
    config = provider(storageAccountName="stx", storageKeyUri=VERSIONLESS)
    assert config.key_uris[Service.STORAGE].version is None


def test_split_stack_sources_are_refused_in_both_mode() -> None:
    with pytest.raises(ConfigError) as caught:
        load({**PROVIDER, "mode": "both", "customerStack": "acme/dedicated-cmk/customer",
              "sqlKeyUri": VERSIONED, "vaultLocation": "westeurope",
              "customerTenantId": "8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21",
              "customerSubscriptionId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
              "customerLocation": "westeurope", "customerResourceGroup": "rg-c",
              "vaultName": "kv-c"})
    split = "it is a key of split provider stacks only (mode provider)"
    assert [p.render() for p in caught.value.problems] == [
        f"dedicated-cmk:{key}: has no effect in this stack (mode both): {split}\n"
        f"    fix: pulumi config rm {key}"
        for key in ("customerStack", "sqlKeyUri", "vaultLocation")
    ]


def test_the_program_refuses_a_bad_provider_config_before_creating_anything() -> None:
    with pytest.raises(Exception, match=r"invalid stack configuration \(1 problem\); nothing was "
                                        r"created:\n  - dedicated-cmk:providerLocation: disk "
                                        r"encryption set region 'northeurope' differs"):
        run_stack("dev", providerLocation="northeurope")
