"""Config validation: every bad input named with its key, value and fix; nothing else escapes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.config.common import Service
from components.config.keys import KNOWN_KEYS, Mode
from components.config.problems import ConfigError
from components.config.stack import StackConfig, load

CUSTOMER = {
    "mode": "customer",
    "customerTenantId": "8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21",
    "customerSubscriptionId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    "customerLocation": "westeurope",
    "customerResourceGroup": "rg-contoso-cmk",
    "vaultName": "kv-contoso-cmk",
    "providerAppClientId": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
}
PROVIDER = {
    "mode": "provider",
    "providerTenantId": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    "providerSubscriptionId": "3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a",
    "providerLocation": "westeurope",
    "providerResourceGroup": "rg-saas",
    "services": '["storage"]',
    "storageAccountName": "stcontosocmk",
    "storageKeyUri": "https://kv-contoso-cmk.vault.azure.net/keys/cmk/" + "a" * 32,
}


def problems(raw: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(raw)
    return [p.render() for p in caught.value.problems]


def test_customer_defaults_are_the_secure_ones() -> None:
    config = load(CUSTOMER)
    assert config.mode is Mode.CUSTOMER and config.provider is None
    customer = config.customer
    assert customer is not None
    assert customer.protect is True
    assert customer.vault.retention_days == 90
    assert customer.vault.rbac is True
    assert customer.vault.public_network_access == "Enabled"
    assert [(k.name, k.kty, k.size) for k in customer.keys] == [("cmk", "RSA", 2048)]
    # No Snowflake account configured: no Snowflake key by default.
    assert customer.keys[0].services == (Service.STORAGE, Service.SQL, Service.DISK)
    assert customer.service_keys == {s: "cmk" for s in customer.keys[0].services}


def test_per_service_keys_group_services_by_key() -> None:
    config = load({**CUSTOMER, "keyName": "shared", "diskKeyName": "disk-only"})
    assert config.customer is not None
    assert [(k.name, k.services) for k in config.customer.keys] == [
        ("shared", (Service.STORAGE, Service.SQL)),
        ("disk-only", (Service.DISK,)),
    ]


def test_values_are_normalised() -> None:
    config = load({**CUSTOMER, "customerLocation": "West Europe", "vaultName": "KV-Contoso",
                   "customerTenantId": CUSTOMER["customerTenantId"].upper(),
                   "keyExpiresOn": "2028-11-30", "vaultPermissionModel": "ACCESSPOLICY"})
    assert config.customer is not None
    assert config.customer.target.location == "westeurope"
    assert config.customer.vault.name == "kv-contoso"
    assert config.customer.target.tenant_id == CUSTOMER["customerTenantId"]
    assert config.customer.keys[0].expires_on == date(2028, 11, 30)
    assert config.customer.vault.rbac is False


def test_every_problem_is_reported_at_once() -> None:
    found = problems({**CUSTOMER, "vaultName": "a", "keySize": "1024", "vaultRetentionDays": "3"})
    assert len(found) == 3


BAD_INPUTS: list[tuple[str, dict[str, str], str]] = [
    ("mode unknown", {"mode": "all"}, "dedicated-cmk:mode: 'all' is not one of both, customer, provider\n    fix: pulumi config set mode both"),
    ("tenant not a guid", {"customerTenantId": "contoso.onmicrosoft.com"}, "dedicated-cmk:customerTenantId: 'contoso.onmicrosoft.com' is not a GUID (expected 8-4-4-4-12 hexadecimal digits)\n    fix: pulumi config set customerTenantId <tenant guid>"),
    ("tenant all zeros", {"customerTenantId": "00000000-0000-0000-0000-000000000000"}, "dedicated-cmk:customerTenantId: '00000000-0000-0000-0000-000000000000' is not a canonical, non-zero GUID\n    fix: pulumi config set customerTenantId <tenant guid>"),
    ("tenant braces", {"customerTenantId": "{8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21}"}, "dedicated-cmk:customerTenantId: '{8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21}' is not a canonical, non-zero GUID\n    fix: pulumi config set customerTenantId <tenant guid>"),
    ("subscription missing", {"customerSubscriptionId": ""}, "dedicated-cmk:customerSubscriptionId: is required but not set (the customer tenant)\n    fix: pulumi config set customerSubscriptionId <subscription guid>"),
    ("subscription short", {"customerSubscriptionId": "1a2b3c4d"}, "dedicated-cmk:customerSubscriptionId: '1a2b3c4d' is not a GUID (expected 8-4-4-4-12 hexadecimal digits)\n    fix: pulumi config set customerSubscriptionId <subscription guid>"),
    ("region typo", {"customerLocation": "westeurop"}, "dedicated-cmk:customerLocation: 'westeurop' is not an Azure region name (did you mean 'westeurope'?)\n    fix: pulumi config set customerLocation westeurope"),
    ("region invented", {"customerLocation": "moon"}, "dedicated-cmk:customerLocation: 'moon' is not an Azure region name\n    fix: pulumi config set customerLocation westeurope"),
    ("resource group bad char", {"customerResourceGroup": "rg/cmk"}, "dedicated-cmk:customerResourceGroup: 'rg/cmk' is not a valid resource group name (1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.')\n    fix: pulumi config set customerResourceGroup rg-customer-cmk"),
    ("resource group ends with dot", {"customerResourceGroup": "rg."}, "dedicated-cmk:customerResourceGroup: 'rg.' is not a valid resource group name (1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.')\n    fix: pulumi config set customerResourceGroup rg-customer-cmk"),
    ("resource group existing not bool", {"customerResourceGroupExisting": "maybe"}, "dedicated-cmk:customerResourceGroupExisting: 'maybe' is not true or false\n    fix: pulumi config set customerResourceGroupExisting true"),
    ("vault name too short", {"vaultName": "kv"}, "dedicated-cmk:vaultName: 'kv' has 2 characters; a vault name has 3 to 24\n    fix: pulumi config set vaultName kv-contoso-cmk"),
    ("vault name too long", {"vaultName": "kv-" + "x" * 22}, "dedicated-cmk:vaultName: 'kv-xxxxxxxxxxxxxxxxxxxxxx' has 25 characters; a vault name has 3 to 24\n    fix: pulumi config set vaultName kv-contoso-cmk"),
    ("vault name starts with digit", {"vaultName": "1kv-cmk"}, "dedicated-cmk:vaultName: '1kv-cmk' must start with a letter, end with a letter or digit and use only letters, digits and hyphens\n    fix: pulumi config set vaultName kv-contoso-cmk"),
    ("vault name double hyphen", {"vaultName": "kv--cmk"}, "dedicated-cmk:vaultName: 'kv--cmk' contains '--', which Key Vault names may not\n    fix: pulumi config set vaultName kv-contoso-cmk"),
    ("vault name underscore", {"vaultName": "kv_cmk"}, "dedicated-cmk:vaultName: 'kv_cmk' must start with a letter, end with a letter or digit and use only letters, digits and hyphens\n    fix: pulumi config set vaultName kv-contoso-cmk"),
    ("vault name trailing hyphen", {"vaultName": "kv-cmk-"}, "dedicated-cmk:vaultName: 'kv-cmk-' must start with a letter, end with a letter or digit and use only letters, digits and hyphens\n    fix: pulumi config set vaultName kv-contoso-cmk"),
    ("vault sku", {"vaultSku": "gold"}, "dedicated-cmk:vaultSku: 'gold' is not one of standard, premium\n    fix: pulumi config set vaultSku standard"),
    ("retention too low", {"vaultRetentionDays": "6"}, "dedicated-cmk:vaultRetentionDays: 6 is outside the allowed range 7-90\n    fix: pulumi config set vaultRetentionDays 7"),
    ("retention too high", {"vaultRetentionDays": "365"}, "dedicated-cmk:vaultRetentionDays: 365 is outside the allowed range 7-90\n    fix: pulumi config set vaultRetentionDays 90"),
    ("retention not a number", {"vaultRetentionDays": "ninety"}, "dedicated-cmk:vaultRetentionDays: 'ninety' is not a whole number\n    fix: pulumi config set vaultRetentionDays 90"),
    ("permission model", {"vaultPermissionModel": "acl"}, "dedicated-cmk:vaultPermissionModel: 'acl' is not one of rbac, accessPolicy\n    fix: pulumi config set vaultPermissionModel rbac"),
    ("public access", {"vaultPublicNetworkAccess": "Open"}, "dedicated-cmk:vaultPublicNetworkAccess: 'Open' is not one of Enabled, Disabled\n    fix: pulumi config set vaultPublicNetworkAccess Enabled"),
    ("ip rules not a list", {"vaultIpRules": "203.0.113.7"}, "dedicated-cmk:vaultIpRules: '203.0.113.7' is not a list\n    fix: pulumi config set --path 'vaultIpRules[0]' 203.0.113.0/24"),
    ("ip rule private", {"vaultIpRules": '["10.1.0.0/16"]'}, "dedicated-cmk:vaultIpRules[0]: '10.1.0.0/16' is a private range (RFC 1918); the vault firewall admits public IPv4 addresses only\n    fix: pulumi config set --path 'vaultIpRules[0]' 203.0.113.0/24"),
    ("ip rule host bits", {"vaultIpRules": '["203.0.113.7", "203.0.113.1/24"]'}, "dedicated-cmk:vaultIpRules[1]: '203.0.113.1/24' is not an IPv4 address or CIDR range with host bits clear\n    fix: pulumi config set --path 'vaultIpRules[1]' 203.0.113.0/24"),
    ("ip rule ipv6", {"vaultIpRules": '["2001:db8::/32"]'}, "dedicated-cmk:vaultIpRules[0]: '2001:db8::/32' is IPv6; Key Vault firewall rules take IPv4 only\n    fix: pulumi config set --path 'vaultIpRules[0]' 203.0.113.0/24"),
    ("ip rule duplicate", {"vaultIpRules": '["203.0.113.7", "203.0.113.7"]'}, "dedicated-cmk:vaultIpRules: ['203.0.113.7', '203.0.113.7'] lists the same entry twice\n    fix: remove the duplicate"),
    ("subnet id", {"vaultSubnetIds": '["subnet-1"]'}, "dedicated-cmk:vaultSubnetIds[0]: 'subnet-1' is not a subnet resource id (/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>)\n    fix: pulumi config set --path 'vaultSubnetIds[0]' /subscriptions/.../subnets/kv"),
    ("key name", {"keyName": "cmk_shared"}, "dedicated-cmk:keyName: 'cmk_shared' is not a valid key name (1-127 letters, digits and hyphens)\n    fix: pulumi config set keyName cmk"),
    ("per-service key for unused service", {"services": '["storage"]', "diskKeyName": "cmk-disk"}, "dedicated-cmk:diskKeyName: is set but 'disk' is not in services\n    fix: pulumi config rm diskKeyName"),
    ("services unknown", {"services": '["storage", "cosmos"]'}, "dedicated-cmk:services[1]: 'cosmos' is not one of storage, sql, disk, snowflake\n    fix: pulumi config set --path 'services[1]' storage"),
    ("key type EC", {"keyType": "EC"}, "dedicated-cmk:keyType: 'EC' is not one of RSA, RSA-HSM\n    fix: pulumi config set keyType RSA"),
    ("hsm key on standard vault", {"keyType": "RSA-HSM"}, "dedicated-cmk:vaultSku: 'standard' cannot hold RSA-HSM keys\n    fix: pulumi config set vaultSku premium"),
    ("key size 1024", {"keySize": "1024"}, "dedicated-cmk:keySize: 1024 is outside the allowed range 2048-4096\n    fix: pulumi config set keySize 2048"),
    ("key size odd", {"keySize": "2500", "services": '["storage"]'}, "dedicated-cmk:keySize: 2500 is not an RSA size Key Vault creates (2048, 3072, 4096)\n    fix: pulumi config set keySize 2048"),
    ("key size rejected by sql", {"keySize": "4096", "services": '["sql"]', "allowKeySizeBeyondPrerequisite": "true"}, "dedicated-cmk:keySize: 4096-bit key 'cmk' is shared by sql, but sql [2048, 3072] only\n    fix: pulumi config set keySize 2048 (a size all of them accept: 2048, 3072)"),
    ("shared key size rejected by snowflake", {"keySize": "3072", "services": '["storage", "sql", "snowflake"]', "allowKeySizeBeyondPrerequisite": "true"}, "dedicated-cmk:keySize: 3072-bit key 'cmk' is shared by storage, sql, snowflake, but snowflake [2048, 4096] only\n    fix: pulumi config set keySize 2048 (a size all of them accept: 2048)"),
    ("key size beyond the prerequisite", {"keySize": "3072", "services": '["storage"]'}, "dedicated-cmk:keySize: 3072 is not RSA 2048, the CMK prerequisite and the policy pack's default (key-type-and-size allowedKeySizes)\n    fix: pulumi config set keySize 2048 (or, if your pack's allowedKeySizes includes 3072, pulumi config set allowKeySizeBeyondPrerequisite true)"),
    ("rotation too late", {"keyRotateAfterDays": "400", "keyExpiryDays": "365"}, "dedicated-cmk:keyRotateAfterDays: 400 days leaves less than 7 days before the 365-day expiry; a version would expire before its successor exists\n    fix: pulumi config set keyRotateAfterDays 335"),
    ("rotation too soon", {"keyRotateAfterDays": "1"}, "dedicated-cmk:keyRotateAfterDays: 1 is outside the allowed range 7-3650\n    fix: pulumi config set keyRotateAfterDays 7"),
    ("expiry too short", {"keyExpiryDays": "14"}, "dedicated-cmk:keyExpiryDays: 14 is outside the allowed range 28-3650\n    fix: pulumi config set keyExpiryDays 28"),
    ("notify after expiry", {"keyNotifyBeforeExpiryDays": "800"}, "dedicated-cmk:keyNotifyBeforeExpiryDays: 800 is not shorter than keyExpiryDays 730\n    fix: pulumi config set keyNotifyBeforeExpiryDays 30"),
    ("expiry date format", {"keyExpiresOn": "30/11/2028"}, "dedicated-cmk:keyExpiresOn: '30/11/2028' is not a date in YYYY-MM-DD form\n    fix: pulumi config set keyExpiresOn 2028-12-31"),
    ("protect not bool", {"protectKeyMaterial": "sometimes"}, "dedicated-cmk:protectKeyMaterial: 'sometimes' is not true or false\n    fix: pulumi config set protectKeyMaterial true"),
    ("customer mode without app", {"providerAppClientId": ""}, "dedicated-cmk:providerAppClientId: is required in customer mode (or set providerStack): the grant is made to the provider's multitenant app\n    fix: pulumi config set providerAppClientId <guid the provider shared>"),
    ("app client id not a guid", {"providerAppClientId": "uipath-app"}, "dedicated-cmk:providerAppClientId: 'uipath-app' is not a GUID (expected 8-4-4-4-12 hexadecimal digits)\n    fix: pulumi config set providerAppClientId <app client id guid>"),
    ("provider stack name", {"providerAppClientId": "", "providerStack": "provider"}, "dedicated-cmk:providerStack: 'provider' is not a fully qualified stack name (org/project/stack)\n    fix: pulumi config set providerStack acme/dedicated-cmk/provider"),
    ("app id and stack both", {"providerStack": "acme/dedicated-cmk/provider"}, "dedicated-cmk:providerStack: is set together with providerAppClientId; set only one\n    fix: pulumi config rm providerStack"),
    ("typo in key", {"vaultname": "kv-other"}, "dedicated-cmk:vaultname: is not a setting of this project; did you mean 'vaultName'?\n    fix: pulumi config rm vaultname && pulumi config set vaultName ..."),
]


@pytest.mark.parametrize(("overrides", "expected"),
                         [(o, e) for _, o, e in BAD_INPUTS], ids=[n for n, _, _ in BAD_INPUTS])
def test_bad_input_is_named_with_its_fix(overrides: dict[str, str], expected: str) -> None:
    raw = {k: v for k, v in {**CUSTOMER, **overrides}.items() if v != ""}
    assert problems(raw) == [expected]


def test_there_are_at_least_thirty_distinct_bad_inputs() -> None:
    assert len({e for _, _, e in BAD_INPUTS}) >= 30


def test_provider_key_uri_must_be_a_key_uri() -> None:
    found = problems({**PROVIDER, "storageKeyUri": "https://kv-contoso-cmk.vault.azure.net/secrets/x"})
    assert found == [
        "dedicated-cmk:storageKeyUri: 'https://kv-contoso-cmk.vault.azure.net/secrets/x' is not a "
        "key URI; expected https://<vault>.vault.azure.net/keys/<name>[/<32-hex version>] (or the "
        "usgovcloudapi.net, azure.cn or managedhsm.* forms)\n    fix: pulumi config set storageKeyUri "
        "https://kv-contoso-cmk.vault.azure.net/keys/cmk/00000000000000000000000000000001"
    ]


def test_error_message_says_nothing_was_created() -> None:
    with pytest.raises(ConfigError) as caught:
        load({**CUSTOMER, "vaultName": "kv--x"})
    assert caught.value.render().startswith(
        "invalid stack configuration (1 problem); nothing was created:\n  - dedicated-cmk:vaultName:")


def test_secret_values_are_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        load({**CUSTOMER, "sqlAdminObjectId": "not-a-guid", "mode": "both",
              "providerTenantId": PROVIDER["providerTenantId"],
              "providerSubscriptionId": PROVIDER["providerSubscriptionId"],
              "providerLocation": "westeurope", "providerResourceGroup": "rg",
              "sqlServerName": "sql-x", "sqlAdminLogin": "admins"},
             secret_keys=frozenset({"sqlAdminObjectId"}))
    rendered = caught.value.render()
    assert "not-a-guid" not in rendered
    assert "dedicated-cmk:sqlAdminObjectId: the value given is not a GUID" in rendered


# --- property-based: any config is either valid or the clear error, never anything else ---

_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "true", "false", "0", "90", "4096", "2048", "[]", '["storage"]',
                     "westeurope", "kv-contoso", "RSA", "RSA-HSM", "premium", "accessPolicy",
                     "both", "customer", "provider", "2028-01-01", "[1, 2]", "{}", "null",
                     "https://kv-a.vault.azure.net/keys/k", CUSTOMER["customerTenantId"]]),
)
_KEYS = st.sampled_from([*sorted(KNOWN_KEYS), "unknownKey"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=12), st.booleans())
def test_random_config_is_valid_or_a_clear_error(overrides: dict[str, str], base: bool) -> None:
    raw = {**(CUSTOMER if base else {}), **overrides}
    try:
        config = load(raw)
    except ConfigError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.key and problem.problem and problem.fix
            assert problem.render().startswith("dedicated-cmk:")
        return
    assert isinstance(config, StackConfig)
